#include "facts.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <regex>
#include <vector>

#include "knowledge.h"
#include "smwatch/arch.h"
#include "strings.h"

namespace smwatch::cli {

namespace {

// "12080" (cuDriverGetVersion's form) -> "12.8".
std::string cuda_from_number(std::string_view digits) {
  unsigned v = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (v < 1000) return {};
  return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

// A GPU name as logs print it ("NVIDIA H100 80GB HBM3", "NVIDIA RTX PRO 6000
// Blackwell Workstation Edition"): the longest leading run of words the GPU
// table knows.
int cc_of_gpu_name(const std::string& name, size_t* known_length = nullptr) {
  std::string n = name;
  while (!n.empty()) {
    if (auto t = smwatch::parse_target(n); t && find_generation(t->cc)) {
      if (known_length) *known_length = n.size();
      return t->cc;
    }
    size_t sp = n.find_last_of(' ');
    if (sp == std::string::npos) break;
    n.resize(sp);
    while (!n.empty() && n.back() == ' ') n.pop_back();
  }
  return 0;
}

// How a line names the GPU.
enum class GpuRuleKind {
  kName,          // a name only (nvidia-smi's table, a device list)
  kNameMajorMinor,  // a name, then major and minor
  kSmNumber,      // an sm number only (a compiler's command line)
  kMajorMinor,    // a major and a minor only (a device query's "Capability: 6.2")
  kProse,         // a name in a person's words: only one the GPU table knows
};
struct GpuRule {
  const char* needle;  // lower case
  std::regex re;
  GpuRuleKind kind;
};
const std::vector<GpuRule>& gpu_rules() {
  static const std::vector<GpuRule> rules = [] {
    auto R = [](const char* re) { return std::regex(re, std::regex::ECMAScript | std::regex::optimize); };
    std::vector<GpuRule> r;
    // Quantifiers are bounded: std::regex backtracks, and an unbounded one
    // scans to the end of the line from every start (issue 24 item 13).
    r.push_back({"nvidia", R(R"(\|\s{1,8}\d{1,3}\s{1,8}(NVIDIA [A-Za-z0-9][A-Za-z0-9 .-]{0,60}?)\s{1,20}(?:On|Off)\s+\|)"), GpuRuleKind::kName});
    r.push_back({"compute capability", R(R"(Device \d{1,3}: (NVIDIA [^,]{1,80}), compute capability (\d+)\.(\d+))"), GpuRuleKind::kNameMajorMinor});
    r.push_back({"major=", R(R"(name='([^']{1,100})', major=(\d+), minor=(\d+))"), GpuRuleKind::kNameMajorMinor});
    r.push_back({"gpu ", R(R"(GPU [\d,]{1,8}: (NVIDIA [A-Za-z0-9][A-Za-z0-9 .-]{0,60}?)\s*(?:\(UUID|$|,))"), GpuRuleKind::kName});
    // ComfyUI: "Device: cuda:0 NVIDIA GeForce RTX 4090 : native", "**Name:** cuda:0 NVIDIA ... : cudaMallocAsync".
    r.push_back({"cuda:", R(R"(cuda:\d{1,2} (NVIDIA [A-Za-z0-9][A-Za-z0-9 .-]{0,60}?) : )"), GpuRuleKind::kName});
    // Miners and other tools: "GPU0: ASUS NVIDIA GeForce RTX 5090 31GB [0000:41:00.0]" (a board maker before the name).
    r.push_back({"gpu", R(R"(GPU\d{1,2}: (?:[A-Za-z]{1,12} )?(NVIDIA [A-Za-z0-9][A-Za-z0-9 .-]{0,60}?)(?: \d{1,3} ?GB| \[|:|,|\s*$))"), GpuRuleKind::kName});
    // TensorFlow: "device: 0, name: NVIDIA GeForce RTX 4090, pci bus id: 0000:01:00.0, compute capability: 8.9".
    r.push_back({"compute capability: ", R(R"(name: ([^,]{1,80}), pci bus id: [^,]{1,40}, compute capability: (\d+)\.(\d+))"), GpuRuleKind::kNameMajorMinor});
    // Prose: "GPU: RTX 5090", "GPU Type : RTX 3060", "**NVIDIA GPU**: RTX 4080".
    r.push_back({"gpu", R(R"((?:^|[^A-Za-z0-9])GPU(?: [Tt]ype| [Mm]odel)?\**\s{0,3}:\s{0,3}\**\s{0,3}([A-Za-z0-9][A-Za-z0-9 .-]{1,60}))"), GpuRuleKind::kProse});
    // A device query's own line; cuPCL spells it "Capbility: 6.2".
    r.push_back({"bility", R(R"(^\s{0,8}(?:Compute )?Cap(?:a)?bility\s{0,4}:\s{0,4}(\d{1,2})\.(\d)\s*$)"), GpuRuleKind::kMajorMinor});
    r.push_back({"sm_", R(R"((?:gpu-name|--gpu-architecture|-arch)[= ]sm_(\d+)[af]?\b)"), GpuRuleKind::kSmNumber});
    r.push_back({"sm_", R(R"('sm_(\d+)[af]?' is not a recognized processor)"), GpuRuleKind::kSmNumber});
    r.push_back({"sm_", R(R"(\.target sm_(\d+)[af]?\b)"), GpuRuleKind::kSmNumber});
    return r;
  }();
  return rules;
}

struct DriverRules {
  std::regex driver, nvsmi_cuda, driver_number, found_version, torch_cuda;
};
const DriverRules& driver_rules() {
  static const DriverRules v = [] {
    auto R = [](const char* re, bool icase = false) {
      auto f = std::regex::ECMAScript | std::regex::optimize;
      if (icase) f |= std::regex::icase;
      return std::regex(re, f);
    };
    DriverRules r;
    r.driver = R(R"((?:Driver Version|driver version)\s*:?\s*(\d{3}\.\d+(?:\.\d+)?))", true);
    r.nvsmi_cuda = R(R"(CUDA Version\s*:\s*(\d+\.\d+))");
    r.driver_number = R(R"(cudaDriverVersion\s*[:=]?\s*(\d{4,5}))");
    r.found_version = R(R"(driver on your system is too old \(found version (\d{4,5})\))");
    r.torch_cuda = R(R"(CUDA used to build PyTorch\s*:\s*(\d+\.\d+))");
    return r;
  }();
  return v;
}

// The two GPU sentences PyTorch prints, read by plain scans (a regex with a
// lazy name before a literal is quadratic on near-miss lines):
//   "Found GPU0 <name> which is of cuda capability 6.1" (also "compute
//   capability (CC) 7.0."), and "<name> with CUDA capability sm_120".
bool read_digits(std::string_view s, size_t& at, int& out) {
  size_t start = at;
  int v = 0;
  while (at < s.size() && at - start < 4 && std::isdigit(static_cast<unsigned char>(s[at]))) v = v * 10 + (s[at++] - '0');
  out = v;
  return at > start;
}
bool scan_found_gpu(std::string_view line, std::string& name, int& cc) {
  for (size_t at = line.find("Found GPU"); at != std::string_view::npos; at = line.find("Found GPU", at + 1)) {
    size_t p = at + 9;
    int ordinal = 0;
    if (!read_digits(line, p, ordinal) || p >= line.size() || line[p] != ' ') continue;
    const size_t name_start = p + 1;
    const size_t which = line.substr(name_start, 120).find(" which is of ");
    if (which == std::string_view::npos || which == 0) continue;
    p = name_start + which + 13;
    std::string_view rest = line.substr(p);
    size_t skip = 0;
    for (std::string_view w : {"cuda capability ", "CUDA capability ", "compute capability "})
      if (rest.starts_with(w)) skip = w.size();
    if (!skip) continue;
    p += skip;
    if (line.substr(p).starts_with("(CC) ")) p += 5;
    int major = 0, minor = 0;
    if (!read_digits(line, p, major) || p >= line.size() || line[p] != '.') continue;
    ++p;
    if (!read_digits(line, p, minor)) continue;
    name = std::string(line.substr(name_start, which));
    cc = major * 10 + minor;
    return true;
  }
  return false;
}
bool scan_with_capability(std::string_view line, std::string& name, int& cc) {
  constexpr std::string_view kLit = " with CUDA capability sm_";
  for (size_t at = line.find(kLit); at != std::string_view::npos; at = line.find(kLit, at + 1)) {
    size_t p = at + kLit.size();
    if (!read_digits(line, p, cc)) continue;
    // The name: back to the last ':' (a logger's prefix), from its first letter.
    size_t start = line.substr(0, at).find_last_of(':');
    start = start == std::string_view::npos ? 0 : start + 1;
    if (at - start > 120) start = at - 120;
    while (start < at && !std::isalpha(static_cast<unsigned char>(line[start]))) ++start;
    if (start == at) continue;
    name = std::string(line.substr(start, at - start));
    return true;
  }
  return false;
}

void learn_gpu(const std::string& line, const std::string& low, size_t line_no, LogFacts& facts) {
  std::string scanned_name;
  int scanned_cc = 0;
  const bool found = scan_found_gpu(line, scanned_name, scanned_cc);
  const bool with = !found && scan_with_capability(line, scanned_name, scanned_cc);
  std::smatch m;
  for (size_t r = 0; r <= gpu_rules().size(); ++r) {
    std::string name;
    int cc = 0;
    GpuRuleKind kind = GpuRuleKind::kName;
    if (r == 0) {  // the scanned sentences come first, as their regexes did
      if (!found && !with) continue;
      // "Found GPU0 X which is of cuda capability 6.1" gives a name, a major and a minor;
      // "X with CUDA capability sm_120" a name and an sm number, as a table's line does.
      kind = found ? GpuRuleKind::kNameMajorMinor : GpuRuleKind::kName;
      name = scanned_name;
      cc = scanned_cc;
    } else {
      const GpuRule& rule = gpu_rules()[r - 1];
      if (!contains(low, rule.needle) || !std::regex_search(line, m, rule.re)) continue;
      kind = rule.kind;
      if (kind == GpuRuleKind::kName) {
        name = m[1].str();
        cc = cc_of_gpu_name(name);
      } else if (kind == GpuRuleKind::kNameMajorMinor) {
        name = m[1].str();
        cc = std::stoi(m[2].str()) * 10 + std::stoi(m[3].str());
      } else if (kind == GpuRuleKind::kProse) {
        name = m[1].str();
        cc = cc_of_gpu_name(name);
        // Prose counts only for a GPU the table knows, and never over a tool's word.
        if (!cc || facts.gpu_cc.value) continue;
        while (!name.empty() && name.back() == ' ') name.pop_back();
        facts.gpu_name.set(name, line_no, true);
        facts.gpu_cc.set(cc, line_no, true);
        break;
      } else if (kind == GpuRuleKind::kMajorMinor) {
        cc = std::stoi(m[1].str()) * 10 + std::stoi(m[2].str());
      } else {
        cc = std::stoi(m[1].str());
      }
    }
    while (!name.empty() && name.back() == ' ') name.pop_back();
    if (name.size() > 80) name.resize(80);
    if (cc < 10 || cc > 999) cc = 0;
    // A tool's word beats prose.
    if (facts.gpu_cc.origin.prose && cc) {
      if (!name.empty()) facts.gpu_name = {};  // a capability alone keeps the name the person wrote
      facts.gpu_cc = {};
    }
    // A name with its capability beats a bare name; the first GPU named wins otherwise.
    if (facts.gpu_cc.value == 0 || (facts.gpu_name.value.empty() && !name.empty()) ||
        (kind == GpuRuleKind::kNameMajorMinor && facts.gpu_name.value.empty())) {
      if (!name.empty()) facts.gpu_name.set(name, line_no);
      if (cc) facts.gpu_cc.set(cc, line_no);
    } else if (!name.empty() && facts.gpu_name.value.empty()) {
      facts.gpu_name.set(name, line_no);
    }
    break;
  }
}

// A GPU named in a person's words where no rule's form is: a line that is
// only a GPU name ("RTX 5090 FE" under a heading, "- NVIDIA GeForce GTX 1080
// Ti"), or "GeForce ..." inside a sentence. Only names the GPU table knows,
// and never over a GPU already read.
void learn_gpu_in_prose(std::string_view line, size_t line_no, LogFacts& facts) {
  if (facts.gpu_cc.value) return;
  auto is_word_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == ' ' || c == '-' || c == '.'; };
  auto set = [&](std::string name, int cc) {
    if (name.find_first_of("0123456789") == std::string::npos) return false;  // "Blackwell" is a family, not a GPU
    facts.gpu_name.set(std::move(name), line_no, true);
    facts.gpu_cc.set(cc, line_no, true);
    return true;
  };
  // The whole line.
  std::string_view t = line;
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t' || t.back() == '.')) t.remove_suffix(1);
  for (std::string_view marker : {"- ", "* ", "**", "`"})
    if (t.starts_with(marker)) t.remove_prefix(marker.size());
  for (std::string_view marker : {"**", "`"})
    if (t.ends_with(marker)) t.remove_suffix(marker.size());
  if (t.size() >= 2 && t.size() <= 60 && std::isupper(static_cast<unsigned char>(t.front())) &&
      !t.starts_with("SM") && std::all_of(t.begin(), t.end(), is_word_char)) {
    const std::string whole(t);
    size_t known = 0;
    if (int cc = cc_of_gpu_name(whole, &known)) {
      // What follows the name is an edition or a size ("FE", "24GB"), not a sentence.
      bool only_name = true;
      int words = 0;
      for (size_t p = known; p < whole.size();) {
        while (p < whole.size() && whole[p] == ' ') ++p;
        if (p >= whole.size()) break;
        if (std::islower(static_cast<unsigned char>(whole[p])) || ++words > 3) only_name = false;
        while (p < whole.size() && whole[p] != ' ') ++p;
      }
      if (only_name && set(whole, cc)) return;
    }
  }
  // "GeForce RTX 3080 Ti" inside a sentence.
  if (size_t at = line.find("GeForce "); at != std::string_view::npos) {
    size_t end = at;
    while (end < line.size() && end - at < 48 && is_word_char(line[end])) ++end;
    std::string name(line.substr(at, end - at));
    size_t known = 0;
    if (int cc = cc_of_gpu_name(name, &known)) {
      // The words after the part the table knows that go with it ("Ti", "SUPER", "Laptop GPU").
      for (int words = 0; words < 3 && known + 1 < name.size() && name[known] == ' ' &&
                          (std::isupper(static_cast<unsigned char>(name[known + 1])) ||
                           std::isdigit(static_cast<unsigned char>(name[known + 1])));
           ++words) {
        const size_t next = name.find(' ', known + 1);
        known = next == std::string::npos ? name.size() : next;
      }
      name.resize(known);
      while (name.ends_with('.')) name.pop_back();
      set(name, cc);
    }
  }
}

void learn_container(const std::string& line, const std::string& low, size_t line_no, const Knowledge& knowledge,
                     LogFacts& facts) {
  if (facts.container.known()) return;
  for (const std::string& hint : knowledge.container_hints())
    if (contains(low, hint)) {
      facts.container.set("'" + hint + "' on line " + std::to_string(line_no), line_no);
      return;
    }
  // A container's shell prompt: root@ and 12 hex digits (the container id).
  if (size_t at = line.find("root@"); at != std::string::npos && line.size() > at + 18 && line[at + 17] == ':' &&
                                      std::all_of(line.begin() + at + 5, line.begin() + at + 17,
                                                  [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }))
    facts.container.set("a container's prompt (" + line.substr(at, 17) + ") on line " + std::to_string(line_no), line_no);
}

// torch's CUDA line from its version's local part: "2.6.0+cu126" -> "12.6".
void learn_torch_cuda(const std::string& ver, size_t line_no, LogFacts& facts) {
  if (!facts.torch_cuda.value.empty()) return;
  size_t cu = ver.find("+cu");
  if (cu != std::string::npos && ver.size() >= cu + 5) {
    std::string digits = ver.substr(cu + 3);
    facts.torch_cuda.set(digits.substr(0, digits.size() - 1) + "." + digits.substr(digits.size() - 1), line_no);
  }
}

// A list item that is only a version with a +cuXXX local part ("- 2.8.0+cu128"):
// only torch's wheels are named so.
bool learn_bare_torch_version(std::string_view line, size_t line_no, LogFacts& facts) {
  while (line.starts_with(' ')) line.remove_prefix(1);
  if (!(line.starts_with("- ") || line.starts_with("* "))) return false;
  line.remove_prefix(2);
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
  const size_t plus = line.find("+cu");
  if (plus == std::string_view::npos || line.size() - plus < 6 || line.size() - plus > 7 || line.size() > 24) return false;
  auto digits_and_dots = [](std::string_view s) {
    return !s.empty() && std::isdigit(static_cast<unsigned char>(s.front())) && s.find('.') != std::string_view::npos &&
           std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == '.'; });
  };
  const std::string_view local = line.substr(plus + 3);
  if (!digits_and_dots(line.substr(0, plus)) ||
      !std::all_of(local.begin(), local.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
    return false;
  if (facts.versions.count("torch")) return true;
  const std::string ver(line);
  facts.versions["torch"].set(ver, line_no, true);
  learn_torch_cuda(ver, line_no, facts);
  return true;
}

void learn_versions(const std::string& line, const std::string& low, size_t line_no, const Knowledge& knowledge,
                    LogFacts& facts) {
  if (learn_bare_torch_version(line, line_no, facts)) return;
  const auto& needles = knowledge.version_needles();
  if (std::none_of(needles.begin(), needles.end(), [&](const std::string& n) { return contains(low, n); })) return;
  std::string rest = line.substr(0, 2000);
  for (std::sregex_iterator it(rest.begin(), rest.end(), knowledge.version_regex()), end; it != end; ++it) {
    const std::string name = knowledge.version_key((*it)[1].str());
    const std::string ver = (*it)[2].str();
    if (name.empty()) continue;
    if (!facts.versions.count(name)) facts.versions[name].set(ver, line_no);
    if (name == "torch") learn_torch_cuda(ver, line_no, facts);
  }
}

void learn_driver(const std::string& line, const std::string& low, size_t line_no, LogFacts& facts) {
  const DriverRules& v = driver_rules();
  std::smatch m;
  if (contains(low, "driver") && std::regex_search(line, m, v.driver) && !facts.driver.known()) facts.driver.set(m[1].str(), line_no);
  if (contains(line, "CUDA Version") && std::regex_search(line, m, v.nvsmi_cuda) && !facts.driver_cuda.known())
    facts.driver_cuda.set(m[1].str(), line_no);
  if (contains(line, "cudaDriverVersion") && std::regex_search(line, m, v.driver_number) && !facts.driver_cuda.known())
    facts.driver_cuda.set(cuda_from_number(m[1].str()), line_no);
  if (contains(low, "too old (found version") && std::regex_search(line, m, v.found_version))
    facts.driver_cuda.set(cuda_from_number(m[1].str()), line_no);
  if (contains(line, "CUDA used to build PyTorch") && std::regex_search(line, m, v.torch_cuda)) facts.torch_cuda.set(m[1].str(), line_no);
}

// What torch was built for: its own warning ("The current PyTorch install
// supports CUDA capabilities sm_50 sm_60 ... sm_90.") or a printed
// torch.cuda.get_arch_list() (['sm_50', 'sm_60', ...]). Plain scans.
void learn_arch_list(std::string_view line, size_t line_no, LogFacts& facts) {
  if (facts.torch_arch_list.known()) return;
  std::string list;
  auto add = [&](std::string_view token) {
    if (token.starts_with("sm_") || token.starts_with("compute_")) list += (list.empty() ? "" : " ") + std::string(token);
  };
  constexpr std::string_view kSentence = "install supports CUDA capabilities ";
  if (size_t at = line.find(kSentence); at != std::string_view::npos) {
    std::string_view rest = line.substr(at + kSentence.size(), 400);
    rest = rest.substr(0, rest.find_first_of(".\n"));
    for (size_t p = 0; p < rest.size();) {
      size_t end = rest.find(' ', p);
      add(rest.substr(p, end - p));
      if (end == std::string_view::npos) break;
      p = end + 1;
    }
  } else if (size_t open = line.find("['sm_"); open != std::string_view::npos) {
    std::string_view rest = line.substr(open + 1, 400);
    rest = rest.substr(0, rest.find(']'));
    for (size_t p = 0; (p = rest.find('\'', p)) != std::string_view::npos;) {
      size_t end = rest.find('\'', p + 1);
      if (end == std::string_view::npos) break;
      add(rest.substr(p + 1, end - p - 1));
      p = end + 1;
    }
  }
  if (!list.empty()) facts.torch_arch_list.set(list, line_no);
}

// The CUDA tool whose fatal error the log shows: its own message ("ptxas
// fatal   : ...", "ptxas-blackwell fatal   : ...", "nvcc fatal   : ..."), or
// the command Python ran ("Command '['/x/bin/ptxas-blackwell', ...]'
// returned non-zero exit status 255"). The last one named counts.
void learn_failed_tool(std::string_view line, size_t line_no, LogFacts& facts) {
  auto tool_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'; };
  if (size_t at = line.find(" fatal"); at != std::string_view::npos && at > 0) {
    size_t after = at + 6;
    while (after < line.size() && line[after] == ' ') ++after;
    size_t start = at;
    while (start > 0 && tool_char(line[start - 1])) --start;
    if (after < line.size() && line[after] == ':' && start < at && (start == 0 || line[start - 1] == ' ' || line[start - 1] == '/'))
      facts.failed_tool.set(std::string(line.substr(start, at - start)), line_no);
  }
  constexpr std::string_view kCommand = "Command '['";
  if (size_t at = line.find(kCommand); at != std::string_view::npos && contains(line, "returned non-zero exit status")) {
    std::string_view program = line.substr(at + kCommand.size(), 400);
    program = program.substr(0, program.find('\''));
    if (size_t slash = program.find_last_of("/\\"); slash != std::string_view::npos) program.remove_prefix(slash + 1);
    if (program.ends_with(".exe")) program.remove_suffix(4);
    if (!program.empty() && std::all_of(program.begin(), program.end(), tool_char))
      facts.failed_tool.set(std::string(program), line_no);
  }
}

}  // namespace

void learn_facts(const std::string& line, const std::string& low, size_t line_no, const Knowledge& knowledge, LogFacts& facts) {
  try {
    learn_gpu(line, low, line_no, facts);
    learn_gpu_in_prose(line, line_no, facts);
    learn_container(line, low, line_no, knowledge, facts);
    learn_versions(line, low, line_no, knowledge, facts);
    learn_driver(line, low, line_no, facts);
    learn_arch_list(line, line_no, facts);
    learn_failed_tool(line, line_no, facts);
  } catch (const std::exception&) {
    // regex complexity or a number out of range: learn nothing more from this line
  }
}

namespace {

bool digits_at(std::string_view s, size_t at, size_t n) {
  if (at + n > s.size()) return false;
  return std::all_of(s.begin() + at, s.begin() + at + n, [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

// "2025-01-01T00:00:00.000000000Z " (kubectl logs --timestamps, docker logs -t):
// the length of the prefix, 0 if none.
size_t rfc3339_prefix(std::string_view line) {
  if (!(digits_at(line, 0, 4) && line.size() > 20 && line[4] == '-' && digits_at(line, 5, 2) && line[7] == '-' &&
        digits_at(line, 8, 2) && line[10] == 'T' && digits_at(line, 11, 2) && line[13] == ':' && digits_at(line, 14, 2) &&
        line[16] == ':' && digits_at(line, 17, 2)))
    return 0;
  size_t p = 19;
  if (p < line.size() && line[p] == '.') {
    ++p;
    while (p < line.size() && p < 40 && std::isdigit(static_cast<unsigned char>(line[p]))) ++p;
  }
  if (p < line.size() && line[p] == 'Z') ++p;
  else if (p + 6 <= line.size() && (line[p] == '+' || line[p] == '-') && digits_at(line, p + 1, 2) && line[p + 3] == ':') p += 6;
  else return 0;
  return p < line.size() && line[p] == ' ' ? p + 1 : 0;
}

// Python's logging: "2025-08-13 04:39:39,465 - __main__ - INFO - " (and
// without the logger's name): up to the level and its " - ".
size_t python_logging_prefix(std::string_view line) {
  if (!(digits_at(line, 0, 4) && line.size() > 26 && line[4] == '-' && line[7] == '-' && line[10] == ' ' &&
        digits_at(line, 11, 2) && line[13] == ':' && line[16] == ':' && digits_at(line, 17, 2) && line[19] == ',' &&
        digits_at(line, 20, 3)))
    return 0;
  size_t p = 23;
  for (int field = 0; field < 3; ++field) {
    if (line.substr(p, 3) != " - ") return 0;
    p += 3;
    const size_t end = line.find(" - ", p);
    if (end == std::string_view::npos || end - p > 64) return 0;
    const std::string_view word = line.substr(p, end - p);
    p = end;
    for (std::string_view level : {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"})
      if (word == level) return p + 3;
  }
  return 0;
}

// glog, and PyTorch's C++ and inductor logging that follow it:
// "E0303 11:40:42.533000 713 torch/_inductor/select_algorithm.py:533] ".
size_t glog_prefix(std::string_view line) {
  if (line.size() < 22 || std::string_view("IWEF").find(line[0]) == std::string_view::npos || !digits_at(line, 1, 4) ||
      line[5] != ' ' || !digits_at(line, 6, 2) || line[8] != ':' || !digits_at(line, 9, 2) || line[11] != ':')
    return 0;
  const size_t close = line.find("] ");
  if (close == std::string_view::npos || close > 200) return 0;
  const std::string_view head = line.substr(0, close);
  if (head.find(' ', 6) == std::string_view::npos || head.find(':', 12) == std::string_view::npos) return 0;
  return close + 2;
}

}  // namespace

// Prefixes that tools put before every line of a program's output:
//   kubectl/docker timestamps "2025-01-01T00:00:00.000000000Z "
//   k9s' box "│ ... │"
//   docker compose  "vllm-1  | ", v1's "vllm_1   | " (and it says the log is from a container)
//   Python's logging "2025-08-13 04:39:39,465 - __main__ - INFO - "
//   glog "E0303 11:40:42.533000 713 file.py:533] "
//   vLLM's processes "(EngineCore_0 pid=9492) ", "(APIServer pid=1) "
//   torch.distributed "[rank0]: "
//   pytest's failure report "E   " (an exception's lines, each behind an E)
std::string strip_log_prefix(std::string text, size_t line_no, LogFacts& facts) {
  std::string_view line = text;
  constexpr std::string_view kBox = "\xE2\x94\x82";  // U+2502, k9s' border
  if (line.starts_with(kBox)) {
    line.remove_prefix(kBox.size());
    while (line.ends_with(' ')) line.remove_suffix(1);
    if (line.ends_with(kBox)) line.remove_suffix(kBox.size());
    while (line.starts_with(' ')) line.remove_prefix(1);
    while (line.ends_with(' ')) line.remove_suffix(1);
  }
  line.remove_prefix(rfc3339_prefix(line));
  size_t i = 0;
  while (i < line.size() && i < 64 &&
         (std::isalnum(static_cast<unsigned char>(line[i])) || line[i] == '-' || line[i] == '_' || line[i] == '.'))
    ++i;
  size_t j = i;
  while (j < line.size() && line[j] == ' ' && j - i < 16) ++j;
  if (i > 0 && j > i && j < line.size() && line[j] == '|' && (j + 1 == line.size() || line[j + 1] == ' ')) {
    if (!facts.container.known())
      facts.container.set("docker compose's prefix '" + std::string(line.substr(0, i)) + " |'", line_no);
    line.remove_prefix(std::min(line.size(), j + 2));
    line.remove_prefix(rfc3339_prefix(line));  // docker compose logs -t
  }
  line.remove_prefix(python_logging_prefix(line));
  line.remove_prefix(glog_prefix(line));
  if (line.starts_with("(")) {
    size_t close = line.find(") ");
    if (close != std::string_view::npos && close < 48 && line.substr(0, close).find(" pid=") != std::string_view::npos)
      line.remove_prefix(close + 2);
  }
  if (line.starts_with("E   ")) {
    line.remove_prefix(1);
    while (line.starts_with(' ')) line.remove_prefix(1);
  }
  if (line.starts_with("[rank")) {
    size_t close = line.find("]: ");
    if (close != std::string_view::npos && close < 16) line.remove_prefix(close + 3);
  }
  return line.size() == text.size() ? text : std::string(line);
}

std::string versions_text(const LogFacts& facts) {
  std::string out;
  for (const auto& [name, ver] : facts.versions) out += (out.empty() ? "" : ", ") + name + " " + ver.value;
  if (facts.driver.known() || facts.driver_cuda.known()) {
    out += (out.empty() ? "" : ", ") + std::string("driver");
    if (facts.driver.known()) out += " " + facts.driver.value;
    if (facts.driver_cuda.known()) out += " (supports CUDA " + facts.driver_cuda.value + ")";
  }
  return out;
}

std::map<std::string, std::string> versions_with_driver(const LogFacts& facts) {
  std::map<std::string, std::string> out;
  for (const auto& [name, ver] : facts.versions) out[name] = ver.value;
  if (facts.driver.known()) out["driver"] = facts.driver.value;
  if (facts.driver_cuda.known()) out["driver_cuda"] = facts.driver_cuda.value;
  return out;
}

nlohmann::json facts_to_json(const LogFacts& facts) {
  nlohmann::json out = nlohmann::json::object();
  auto put = [](nlohmann::json& into, const std::string& key, const auto& fact) {
    if (!fact.known()) return;
    into[key] = {{"value", fact.value}, {"line", fact.origin.line}, {"from", fact.origin.prose ? "prose" : "tool"}};
  };
  put(out, "gpu_name", facts.gpu_name);
  put(out, "gpu_cc", facts.gpu_cc);
  put(out, "torch_cuda", facts.torch_cuda);
  put(out, "driver", facts.driver);
  put(out, "driver_cuda", facts.driver_cuda);
  put(out, "torch_arch_list", facts.torch_arch_list);
  put(out, "container", facts.container);
  put(out, "failed_tool", facts.failed_tool);
  if (!facts.versions.empty()) {
    nlohmann::json versions = nlohmann::json::object();
    for (const auto& [name, fact] : facts.versions) put(versions, name, fact);
    out["versions"] = std::move(versions);
  }
  return out;
}

}  // namespace smwatch::cli
