// Which Python environment to look at when the user names no interpreter
// (smscan --python without a value, smwatch doctor, smwatch explain).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "smwatch/result.h"

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

// What an interpreter says about itself (one probe, for smwatch doctor and
// smwatch explain): its answer is checked field by field, since the
// "interpreter" may be any program.
struct PythonProbe {
  struct Dist {
    std::string name, version;
    std::vector<std::string> requires_;  // Requires-Dist lines, as written
  };
  std::string executable;         // sys.executable; "" when it does not know (it may say null)
  std::string version;            // "3.12.3"
  std::vector<std::string> site;  // site-packages directories, in its order, without repeats
  std::vector<Dist> dists;        // importlib.metadata's distributions; malformed entries skipped
};

// Runs `python` with the probe (capture_output: bounded output and time).
// An error names the interpreter and what was wrong with its answer.
Result<PythonProbe> probe_python(const std::string& python);
// The checks on the answer, apart (for tests and the fuzzer).
Result<PythonProbe> parse_python_probe(std::string_view printed, const std::string& python);

// The directory of the running executable, symlinks resolved ("" if unknown).
std::string executable_dir();

// The Python environment the log's packages are checked against
// (`smwatch explain --python`): installed distributions, versions and their
// requirements. Names are normalised (lower case, '-' for '_' and '.').
struct PythonEnv {
  std::string python;  // the interpreter asked
  struct Dist {
    std::string name, version;
    std::vector<std::string> requires_;  // "transformers>=4.51.0,<4.54", as in METADATA
  };
  std::map<std::string, Dist> dists;
  const Dist* find(std::string_view name) const;
  // Installed distributions whose requirements name `name`, with that requirement.
  std::vector<std::pair<std::string, std::string>> required_by(std::string_view name) const;
};
// Asks `python` (run without a shell) for its distributions. Error when it cannot run.
Result<PythonEnv> query_python_env(const std::string& python);
// Normalised distribution name: "Flash_Attn" -> "flash-attn".
std::string dist_name(std::string_view name);

}  // namespace smwatch
