// What a log says about the stack it came from, read line by line: the GPU,
// versions, the driver, what torch was built for, whether it ran in a
// container, and which CUDA tool failed. Each fact keeps where it was read.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <map>
#include <string>
#include <utility>

namespace smwatch::cli {

class Knowledge;

// Where a fact was read.
struct Origin {
  size_t line = 0;     // 1-based line of the log; 0: the log does not say
  bool prose = false;  // written by a person ("GPU: RTX 3060"), not printed by a tool
};

template <class T>
struct Fact {
  T value{};
  Origin origin;
  bool known() const { return origin.line != 0; }
  void set(T v, size_t line, bool prose = false) {
    value = std::move(v);
    origin = {line, prose};
  }
};

// Bounded: one value per fact, and versions only of the packages table's packages.
struct LogFacts {
  Fact<std::string> gpu_name;  // "NVIDIA GeForce RTX 5090"
  Fact<int> gpu_cc;            // 120
  std::map<std::string, Fact<std::string>> versions;  // package (the packages table's name) -> "2.6.0+cu126"
  Fact<std::string> torch_cuda;       // "12.6": the CUDA torch was built with (+cu126, collect_env)
  Fact<std::string> driver;           // "570.86"
  Fact<std::string> driver_cuda;      // "12.8": the newest CUDA the driver supports
  Fact<std::string> torch_arch_list;  // "sm_50 sm_60 sm_70": the architectures torch was built for
  // The log comes from a container (a compose prefix "vllm-1  | ", docker
  // commands, an image name, a container's root prompt): the fix is another
  // image, not pip. The value says what showed it.
  Fact<std::string> container;
  Fact<std::string> failed_tool;  // the CUDA tool whose fatal error the log shows ("ptxas-blackwell")
};

// Reads one line (ANSI and log prefixes already dropped; `low` its lower
// case start) into the facts; `line` is 1-based. Never throws.
void learn_facts(const std::string& line, const std::string& low, size_t line_no, const Knowledge& knowledge, LogFacts& facts);

// Drops the prefixes tools put before every line of a program's output, so
// that they never become part of a fact; a docker compose prefix is itself
// the container fact.
std::string strip_log_prefix(std::string text, size_t line_no, LogFacts& facts);

// "torch 2.6.0+cu126, driver 550.54 (supports CUDA 12.4)".
std::string versions_text(const LogFacts& facts);
// The versions with the driver's ("driver", "driver_cuda") among them, by name.
std::map<std::string, std::string> versions_with_driver(const LogFacts& facts);
// Every known fact with its line and whether a tool or a person said it.
nlohmann::json facts_to_json(const LogFacts& facts);

}  // namespace smwatch::cli
