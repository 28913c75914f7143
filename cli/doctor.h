// `smwatch doctor`: this machine's GPUs and driver, the CUDA packages of the
// current Python, and whether they can run here.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace smwatch::cli {

struct DoctorOptions {
  std::string python;                   // interpreter whose site-packages are scanned; "": smwatch::choose_python()
  std::vector<std::string> extra_paths;  // more directories or files to scan
  std::vector<std::string> targets;      // what-if targets on top of the native GPUs
  bool json = false;
};

// Prints the diagnosis; returns 0 (everything can run), 1 (something will
// fail, or the driver is too old for a GPU) or 2 (nothing could be scanned).
int run_doctor(std::ostream& out, const DoctorOptions& options, const std::string& exe_dir);

}  // namespace smwatch::cli
