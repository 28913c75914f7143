// Which Python environment to look at when the user names no interpreter
// (smscan --python without a value, smwatch doctor, smwatch explain).
#pragma once

#include <string>

namespace smwatch {

struct PythonChoice {
  std::string python;  // what to run: a path, or "python3" (looked up in PATH)
  std::string origin;  // why this one, for the output ("the environment smwatch is installed in (/venv)")
};

// `named` when not empty (origin: "named with --python"); else
// $SMWATCH_PYTHON (set by `python -m smwatch`: the interpreter that ran it);
// else the environment these programs are installed in: a python3 or python
// next to the running executable (a venv's or conda environment's bin/, with
// or without activating it); else "python3" from PATH.
PythonChoice choose_python(const std::string& named = {});

// The directory of the running executable, symlinks resolved ("" if unknown).
std::string executable_dir();

}  // namespace smwatch
