#include "explain.h"

#include <algorithm>
#include <cctype>
#include <array>
#include <charconv>
#include <cstdlib>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "explain/knowledge.h"
#include "signatures_embed.h"  // generated from cli/signatures.json by embed.cmake
#include "smwatch/arch.h"
#include "smwatch/demangle.h"
#include "smwatch/python_env.h"
#include "smwatch/scan.h"
#include "smwatch/version.h"

#include <filesystem>

namespace smwatch::cli {

using nlohmann::json;

// Regexes see at most this many bytes of a line (or window). libstdc++'s
// std::regex backtracks recursively, so its stack use grows with the input;
// every message we know fits in far less, and a 1 MB line of base64 in a log
// must not crash the explainer.
constexpr size_t kMaxMatchChars = 2000;
constexpr size_t kMaxTextChars = 400;  // of a matched line, kept for display

// Values a "target" capture derives from the GPU table (arch.cc is the one
// source of these facts).
const char* const kTargetValues[] = {"sm", "cc", "gpus", "gpu_desc", "first_cuda", "pytorch_line", "fix_hint"};

// Values every signature has, from the whole log (LogContext), from the
// traceback around the match, and from the Python environment (--python):
//   log_gpu        the GPU the log names ("NVIDIA GeForce RTX 5090 (sm_120)")
//   log_sm         its architecture ("sm_120")
//   versions       versions the log printed ("torch 2.6.0+cu126, driver 550.54 (CUDA 12.4)")
//   failing_package the distribution the failing code belongs to (frames, paths, torch.ops namespace, library names)
//   failing_where  what named it ("site-packages/xformers/ops/fmha/cutlass.py")
//   importer       the module whose import failed (the frame above the error)
//   importer_package its distribution ("compressed-tensors")
//   package_fix    the concrete replacement for code without this GPU's architecture: driver too old,
//                  or which wheel line for which package (arch.cc's fix_hint for the GPU and package)
//   env_note       what --python's environment has installed and requires (mismatch findings)
//   env_pin        the pin that resolves a version mismatch, from the installed requirements
//   serving_fix    SGLang advice that fits the failing package
//   range_title, range_cause, range_fix, range_verdict   PyTorch's capability-range warning, read ("derive": "capability-range")
//   failing_in     " in <failing_package>", or nothing
//   so_code        what a library the log names holds here (--python / explain on this machine: smscan's reading)
//   older_line_fix the fix when the GPU is older than the build's oldest architecture (an older CUDA line)
const char* const kContextValues[] = {"log_gpu", "log_sm", "versions", "failing_package", "failing_where",
                                      "importer", "importer_package", "package_fix", "env_note", "env_pin",
                                      "serving_fix", "range_title", "range_cause", "range_fix", "range_verdict",
                                      "older_line_fix", "failing_in", "so_code", "log_cc_digits", "container_fix",
                                      "library_cuda", "library_cuda_major", "bnb_cuda_text", "runtime_wheel", "package",
                                      // the derives' values ("derive" below)
                                      "trt_gpu", "trt_known", "trt_fix", "instr_cause", "instr_fix", "ptxas_cause",
                                      "ptxas_fix", "xformers_cause", "xformers_fix"};
// C++ readings a signature can ask for ("derive"): each fills the values named above.
const char* const kDerives[] = {"capability-range", "tensorrt-sm", "arch-specific-instruction", "triton-ptxas",
                                "xformers-torch"};

struct SignatureSet::Signature {
  std::string id, severity, title, cause, fix;
  std::vector<std::string> needles;  // lower case; one must occur before the regex runs
  std::regex re;
  std::regex unless;                 // a line (window) matching this is not a match (e.g. a WARNING line)
  bool has_unless = false;
  std::string derive;                // C++ reading of the values: "capability-range"
  std::vector<std::string> captures;     // names of groups 1..n
  size_t lines = 1;                      // window: this line and the next lines - 1
  std::string target;                    // value naming a GPU/arch, "" = none
  std::string demangle;                  // value holding a mangled name, "" = none
  std::vector<std::string> json_fields;  // the line holds a JSON record: these fields become values
  std::vector<std::string> requires_ids, supersedes;
  std::vector<std::string> hidden_by;  // not reported when one of these matched anywhere in the log
  std::string package;                 // the distribution whose message this is (value "package" when none captured)
  std::vector<std::string> dedupe;  // values that make two matches different findings
  bool dedupe_set = false;          // "dedupe" given ([] folds every match into one)
};

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Coloured logs: drop ANSI CSI sequences (ESC [ ... final byte) so that the
// regexes see the text a person sees.
std::string strip_ansi(std::string_view s) {
  if (s.find('\x1b') == std::string_view::npos) return std::string(s);
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\x1b' && i + 1 < s.size() && s[i + 1] == '[') {
      i += 2;
      while (i < s.size() && !(s[i] >= 0x40 && s[i] <= 0x7e)) ++i;
      continue;
    }
    out += s[i];
  }
  return out;
}

// Placeholders in a template: "{name}", or "{first|second|'literal'}" (the
// first non-empty value, or the quoted text). Returns the names, for checking.
std::vector<std::string> placeholders(const std::string& tmpl) {
  std::vector<std::string> names;
  for (size_t i = 0; (i = tmpl.find('{', i)) != std::string::npos;) {
    size_t end = tmpl.find('}', i);
    if (end == std::string::npos) break;
    std::string inner = tmpl.substr(i + 1, end - i - 1);
    for (size_t start = 0;;) {
      size_t bar = inner.find('|', start);
      std::string name = inner.substr(start, bar - start);
      if (!(name.size() >= 2 && name.front() == '\'' && name.back() == '\'')) names.push_back(name);
      if (bar == std::string::npos) break;
      start = bar + 1;
    }
    i = end + 1;
  }
  return names;
}

std::string expand(const std::string& tmpl, const std::map<std::string, std::string>& values) {
  std::string out;
  size_t i = 0;
  while (i < tmpl.size()) {
    size_t open = tmpl.find('{', i);
    size_t close = open == std::string::npos ? std::string::npos : tmpl.find('}', open);
    if (close == std::string::npos) {
      out.append(tmpl, i, std::string::npos);
      break;
    }
    out.append(tmpl, i, open - i);
    std::string inner = tmpl.substr(open + 1, close - open - 1);
    std::string value;
    bool literal = false;
    for (size_t start = 0;;) {
      size_t bar = inner.find('|', start);
      std::string name = inner.substr(start, bar - start);
      if (name.size() >= 2 && name.front() == '\'' && name.back() == '\'') {
        value = name.substr(1, name.size() - 2);
        literal = true;
        break;
      }
      auto it = values.find(name);
      if (it != values.end() && !it->second.empty()) {
        value = it->second;
        break;
      }
      if (bar == std::string::npos) break;
      start = bar + 1;
    }
    out += value.empty() && !literal ? "(unknown)" : value;
    i = close + 1;
  }
  return out;
}

void add_target_values(const std::string& spec, std::map<std::string, std::string>& values) {
  auto target = smwatch::parse_target(spec);
  if (!target) {
    values["sm"] = spec;
    values["gpu_desc"] = spec;
    values["fix_hint"] = "install a build of the failing package that includes code for your GPU's architecture";
    return;
  }
  const GpuGeneration* gen = find_generation(target->cc);
  values["sm"] = target->sm_name();
  values["cc"] = target->cc_string();
  values["gpus"] = gen ? gen->gpus : "";
  values["first_cuda"] = gen ? gen->first_cuda : "";
  values["pytorch_line"] = gen ? gen->pytorch_line : "";
  values["gpu_desc"] = target->sm_name() + " (compute capability " + target->cc_string() +
                       (gen ? std::string(": ") + gen->gpus : std::string()) + ")";
  values["fix_hint"] = fix_hint(target->cc);
}

// A record field as text: a string, a number, or a flat list of them
// ("archs": ["sm_80", "sm_90"], a cmdline). Nested containers are not walked
// (their depth is the log writer's choice, and dump() recurses): "[...]".
std::string json_value_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  if (v.is_array()) {
    std::string out;
    for (const auto& item : v) {
      if (!out.empty()) out += ' ';
      out += item.is_string() ? item.get<std::string>() : item.is_structured() ? std::string("[...]") : item.dump();
    }
    return out;
  }
  return v.is_structured() ? std::string("{...}") : v.dump();
}

// The deepest nesting of brackets in `text` outside JSON strings: a log line
// that nests deeper than any record we read is not parsed as one (the
// parser's values are freed recursively; 10,000 levels overflow the stack).
constexpr size_t kMaxRecordDepth = 32;
bool nests_deeper_than(std::string_view text, size_t limit) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

std::vector<std::string> string_list(const json& sig, const char* key, const std::string& where,
                                     std::string& error) {
  std::vector<std::string> out;
  if (!sig.contains(key)) return out;
  const json& v = sig[key];
  if (v.is_string()) return {v.get<std::string>()};
  if (!v.is_array()) {
    error = where + ": \"" + key + "\" must be a string or a list of strings";
    return out;
  }
  for (const auto& item : v) {
    if (!item.is_string()) {
      error = where + ": \"" + key + "\" must hold strings only";
      return {};
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}


}  // namespace

SignatureSet::SignatureSet() = default;
SignatureSet::~SignatureSet() = default;
SignatureSet::SignatureSet(SignatureSet&&) noexcept = default;
SignatureSet& SignatureSet::operator=(SignatureSet&&) noexcept = default;
size_t SignatureSet::size() const { return signatures_.size(); }

const nlohmann::json& SignatureSet::knowledge() const {
  static const json kNone = json::object();
  return knowledge_ ? *knowledge_ : kNone;
}

std::vector<std::string> SignatureSet::ids() const {
  std::vector<std::string> out;
  for (const auto& s : signatures_) out.push_back(s->id);
  return out;
}

Result<SignatureSet> SignatureSet::parse(std::string_view json_text, const std::string& origin) {
  json doc = json::parse(json_text, nullptr, false);
  if (doc.is_discarded()) return make_error(origin + ": not valid JSON");
  if (!doc.is_object() || !doc.contains("signatures") || !doc["signatures"].is_array())
    return make_error(origin + ": expected an object with a \"signatures\" list");
  SignatureSet set;
  set.origin_ = origin;
  if (doc.contains("knowledge") && !doc["knowledge"].is_object()) return make_error(origin + ": \"knowledge\" must be an object");
  set.knowledge_ = std::make_shared<const json>(doc.value("knowledge", json::object()));
  if (doc.contains("knowledge"))
    if (auto checked = Knowledge::parse(doc["knowledge"], origin); !checked) return make_error(checked.error().message);
  std::set<std::string> ids;
  size_t index = 0;
  for (const auto& j : doc["signatures"]) {
    ++index;
    std::string where = origin + ": signature " + std::to_string(index);
    if (!j.is_object()) return make_error(where + ": not an object");
    auto text = [&](const char* key, bool required, std::string& out) -> bool {
      if (!j.contains(key)) return !required;
      if (!j[key].is_string()) return false;
      out = j[key].get<std::string>();
      return true;
    };
    auto sig = std::make_unique<Signature>();
    if (!text("id", true, sig->id) || sig->id.empty()) return make_error(where + ": needs a string \"id\"");
    where = origin + ": signature '" + sig->id + "'";
    if (!ids.insert(sig->id).second) return make_error(where + ": id used twice");
    std::string regex;
    for (auto [key, out] : {std::pair<const char*, std::string*>{"title", &sig->title},
                            {"cause", &sig->cause},
                            {"fix", &sig->fix},
                            {"regex", &regex}}) {
      if (!text(key, true, *out) || out->empty()) return make_error(where + ": needs a non-empty string \"" + key + "\"");
    }
    sig->severity = "error";
    if (!text("severity", false, sig->severity) ||
        (sig->severity != "error" && sig->severity != "warning" && sig->severity != "context"))
      return make_error(where + ": \"severity\" must be error, warning or context");
    // An unbounded lazy quantifier before a literal ("(.+?) which is") makes
    // std::regex scan to the end of the line from every start: quadratic on
    // near-miss lines. Such a signature says how far it looks ({0,120}?).
    for (const std::string* re : {&regex}) {
      size_t lazy = re->find("*?");
      if (lazy == std::string::npos) lazy = re->find("+?");
      if (lazy != std::string::npos && !(lazy > 0 && (*re)[lazy - 1] == '\\'))
        return make_error(where + ": an unbounded lazy quantifier ('" + re->substr(lazy, 2) +
                          "'); bound it, e.g. {0,120}? (std::regex backtracks: unbounded is quadratic on near-miss lines)");
    }
    bool icase = j.value("icase", false);
    try {
      auto flags = std::regex::ECMAScript | std::regex::optimize;
      if (icase) flags |= std::regex::icase;
      sig->re = std::regex(regex, flags);
    } catch (const std::regex_error& e) {
      return make_error(where + ": bad regex: " + e.what());
    }
    std::string unless;
    if (!text("unless", false, unless)) return make_error(where + ": \"unless\" must be a regex string");
    if (!unless.empty()) {
      try {
        sig->unless = std::regex(unless, std::regex::ECMAScript | std::regex::optimize | std::regex::icase);
        sig->has_unless = true;
      } catch (const std::regex_error& e) {
        return make_error(where + ": bad \"unless\" regex: " + e.what());
      }
    }
    if (!text("derive", false, sig->derive) ||
        (!sig->derive.empty() && std::find(std::begin(kDerives), std::end(kDerives), sig->derive) == std::end(kDerives)))
      return make_error(where + ": \"derive\" must be one of capability-range, tensorrt-sm, arch-specific-instruction, "
                                "triton-ptxas, xformers-torch");
    std::string error;
    sig->captures = string_list(j, "captures", where, error);
    sig->json_fields = string_list(j, "json", where, error);
    sig->requires_ids = string_list(j, "requires", where, error);
    sig->supersedes = string_list(j, "supersedes", where, error);
    sig->hidden_by = string_list(j, "hidden_by", where, error);
    if (!text("package", false, sig->package)) return make_error(where + ": \"package\" must be a string");
    sig->dedupe = string_list(j, "dedupe", where, error);
    sig->dedupe_set = j.contains("dedupe");
    for (auto& n : string_list(j, "needles", where, error)) sig->needles.push_back(lower(n));
    if (!error.empty()) return make_error(error);
    if (sig->needles.empty())
      return make_error(where + ": needs \"needles\" (literal text, one of which every match contains: "
                                "it keeps the regexes off the lines that cannot match)");
    if (sig->captures.size() != sig->re.mark_count())
      return make_error(where + ": the regex has " + std::to_string(sig->re.mark_count()) + " groups but " +
                        std::to_string(sig->captures.size()) + " \"captures\" names");
    if (j.contains("lines")) {
      if (!j["lines"].is_number_unsigned() || j["lines"].get<size_t>() < 1 || j["lines"].get<size_t>() > 10)
        return make_error(where + ": \"lines\" must be 1 to 10");
      sig->lines = j["lines"].get<size_t>();
    }
    if (!text("target", false, sig->target) || !text("demangle", false, sig->demangle))
      return make_error(where + ": \"target\" and \"demangle\" name one value");

    // Every name a template or option refers to must be a value this signature produces.
    std::set<std::string> known(sig->captures.begin(), sig->captures.end());
    known.insert(sig->json_fields.begin(), sig->json_fields.end());
    for (const std::string& ref : {sig->target, sig->demangle})
      if (!ref.empty() && !known.count(ref))
        return make_error(where + ": \"" + ref + "\" is not one of its captures or json fields");
    if (!sig->target.empty()) known.insert(std::begin(kTargetValues), std::end(kTargetValues));
    if (!sig->demangle.empty()) known.insert("demangled");
    known.insert(std::begin(kContextValues), std::end(kContextValues));
    for (const std::string* tmpl : {&sig->title, &sig->cause, &sig->fix})
      for (const auto& name : placeholders(*tmpl))
        if (!known.count(name)) return make_error(where + ": {" + name + "} names no value of this signature");
    for (const auto& name : sig->dedupe)
      if (!known.count(name)) return make_error(where + ": dedupe value '" + name + "' is not produced");
    set.max_lines_ = std::max(set.max_lines_, sig->lines);
    for (const auto& n : sig->needles) set.min_needle_ = std::min(set.min_needle_, n.size());
    set.signatures_.push_back(std::move(sig));
  }
  for (const auto& sig : set.signatures_)
    for (const auto* list : {&sig->requires_ids, &sig->supersedes, &sig->hidden_by})
      for (const auto& id : *list)
        if (!ids.count(id)) return make_error(origin + ": signature '" + sig->id + "' refers to unknown id '" + id + "'");
  return set;
}

std::string_view SignatureSet::builtin_text() { return kBuiltinSignatures; }

const SignatureSet& SignatureSet::builtin() {
  // Checked by tests/cli/explain_test.cc; an empty set here would be a build bug.
  static const SignatureSet set = [] {
    auto parsed = parse(kBuiltinSignatures, "built-in signatures.json");
    if (parsed) return std::move(*parsed);
    SignatureSet empty;
    empty.origin_ = parsed.error().message;  // shown by smwatch explain
    return empty;
  }();
  return set;
}

// ---- The log's context ---------------------------------------------------------

namespace {

// "12.6" < "12.8"; "570.86.10" compares as 570, 86, 10.
bool version_less(std::string_view a, std::string_view b) {
  auto next = [](std::string_view& s) {
    unsigned v = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    s.remove_prefix(static_cast<size_t>(r.ptr - s.data()));
    if (!s.empty() && s.front() == '.') s.remove_prefix(1);
    else s = {};
    return v;
  };
  for (int i = 0; i < 4; ++i) {
    if (a.empty() && b.empty()) return false;
    unsigned x = next(a), y = next(b);
    if (x != y) return x < y;
  }
  return false;
}

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
int cc_of_gpu_name(const std::string& name) {
  std::string n = name;
  while (!n.empty()) {
    if (auto t = smwatch::parse_target(n); t && find_generation(t->cc)) return t->cc;
    size_t sp = n.find_last_of(' ');
    if (sp == std::string::npos) break;
    n.resize(sp);
    while (!n.empty() && n.back() == ' ') n.pop_back();
  }
  return 0;
}

// Python module (first component) -> the distribution that installs it.
std::string dist_of_module(std::string_view module) {
  std::string top(module.substr(0, module.find('.')));
  static const std::map<std::string, std::string> kKnown = {
      {"sgl_kernel", "sgl-kernel"}, {"flash_attn", "flash-attn"}, {"flash_attn_2_cuda", "flash-attn"},
      {"flash_attn_3", "flash-attn-3"}, {"flash_attn_interface", "flash-attn-3"},
      {"flashinfer", "flashinfer-python"}, {"compressed_tensors", "compressed-tensors"},
      {"vllm_flash_attn", "vllm-flash-attn"}, {"llama_cpp", "llama-cpp-python"}, {"auto_gptq", "auto-gptq"},
      {"awq", "autoawq"}, {"awq_ext", "autoawq-kernels"}, {"exllamav2", "exllamav2"}, {"mamba_ssm", "mamba-ssm"},
      {"causal_conv1d", "causal-conv1d"}, {"sklearn", "scikit-learn"}, {"cv2", "opencv-python"},
      {"PIL", "pillow"}, {"yaml", "pyyaml"}, {"google", "protobuf"}, {"intel_extension_for_pytorch", "intel-extension-for-pytorch"},
      {"transformer_engine", "transformer-engine"}, {"deep_gemm", "deep-gemm"}, {"triton_kernels", "triton-kernels"},
  };
  if (auto it = kKnown.find(top); it != kKnown.end()) return it->second;
  return dist_name(top);
}

// torch.ops namespaces -> the distribution that registers them.
std::string dist_of_ops_namespace(const std::string& ns) {
  static const std::map<std::string, std::string> kKnown = {
      {"sgl_kernel", "sgl-kernel"}, {"_C", "vllm"}, {"_C_cache_ops", "vllm"}, {"_moe_C", "vllm"},
      {"_vllm_fa2_C", "vllm-flash-attn"}, {"_vllm_fa3_C", "vllm-flash-attn"}, {"vllm", "vllm"},
      {"flash_attn", "flash-attn"}, {"flash_attn_3", "flash-attn-3"}, {"xformers", "xformers"},
      {"bitsandbytes", "bitsandbytes"}, {"torchvision", "torchvision"}, {"torchaudio", "torchaudio"},
      {"fbgemm", "fbgemm-gpu"}, {"mamba_ssm", "mamba-ssm"}, {"_flashmla_C", "sgl-kernel"}, {"trtllm", "tensorrt-llm"},
  };
  if (auto it = kKnown.find(ns); it != kKnown.end()) return it->second;
  return {};
}

// The package a path names: ".../site-packages/<pkg>/..." and its peers.
// Returns the distribution and sets `where` to the part that named it.
std::string package_in_path(std::string_view line, std::string& where, std::string* module = nullptr) {
  for (std::string_view marker : {"site-packages/", "dist-packages/"}) {
    size_t at = line.rfind(marker);
    if (at == std::string_view::npos) continue;
    size_t start = at + marker.size();
    size_t end = start;
    while (end < line.size() && (std::isalnum(static_cast<unsigned char>(line[end])) || line[end] == '_' ||
                                 line[end] == '.' || line[end] == '-'))
      ++end;
    std::string_view top = line.substr(start, end - start);
    if (top.empty() || top.ends_with(".dist-info") || top.ends_with(".egg-info")) continue;
    if (top.ends_with(".py")) top.remove_suffix(3);
    else if (size_t so = top.find(".cpython"); so != std::string_view::npos) top = top.substr(0, so);
    else if (size_t abi = top.find(".abi3"); abi != std::string_view::npos) top = top.substr(0, abi);
    else if (top.ends_with(".so")) top.remove_suffix(3);
    if (top.empty()) continue;
    // The path up to the end of the file name, for display.
    size_t stop = line.find_first_of("\"': ,)", start);
    where = std::string(line.substr(at, (stop == std::string_view::npos ? line.size() : stop) - at));
    if (module) {
      std::string m(line.substr(start, (stop == std::string_view::npos ? line.size() : stop) - start));
      if (m.ends_with(".py")) m.resize(m.size() - 3);
      if (m.ends_with("/__init__")) m.resize(m.size() - 9);
      for (char& c : m)
        if (c == '/') c = '.';
      *module = m;
    }
    return dist_of_module(top);
  }
  return {};
}

// Library and source names that say which project the failing code is.
struct NamedLibrary {
  const char* needle;  // lower case
  const char* package;
  const char* where;
};
const NamedLibrary kNamedLibraries[] = {
    {"libbitsandbytes_cuda", "bitsandbytes", "libbitsandbytes_cuda*.so"},
    {"libbitsandbytes_cpu", "bitsandbytes", "libbitsandbytes_cpu.so"},
    {"ggml-cuda", "llama.cpp (ggml-cuda)", "ggml-cuda"},
    {"ggml_cuda", "llama.cpp (ggml-cuda)", "ggml-cuda"},
    {"third_party/flash-attention/hopper", "the bundled flash-attention (third_party/flash-attention/hopper)",
     "third_party/flash-attention/hopper"},
    {"xformers\\third_party\\flash-attention", "xformers", "xformers' bundled flash-attention (third_party\\flash-attention)"},
    {"xformers/third_party/flash-attention", "xformers", "xformers' bundled flash-attention (third_party/flash-attention)"},
    {"_c_flashattention", "xformers", "xformers _C_flashattention"},
    {"flash_attn_2_cuda", "flash-attn", "flash_attn_2_cuda"},
    {"flash_attn_cuda", "flash-attn", "flash_attn_cuda"},
    {"onnxruntime", "onnxruntime-gpu", "onnxruntime"},
    {"ctranslate2", "ctranslate2", "ctranslate2"},
    {"libnccl", "nccl", "libnccl.so"},
    {"vllm_flash_attn", "vllm-flash-attn", "vllm_flash_attn"},
    {"sgl_kernel", "sgl-kernel", "sgl_kernel"},
    {"sgl-kernel", "sgl-kernel", "sgl-kernel"},
    {"flashinfer", "flashinfer-python", "flashinfer"},
    {"xformers", "xformers", "xformers"},
    {"libtorch_cuda", "torch", "libtorch_cuda.so"},
};

struct GpuRule {
  const char* needle;  // lower case
  std::regex re;       // groups: name, then major, minor or sm number (see kind)
  int kind;            // 0: name only; 1: name, major, minor; 2: sm number only (3: name, sm number: scanned)
};
const std::vector<GpuRule>& gpu_rules() {
  static const std::vector<GpuRule> rules = [] {
    auto R = [](const char* re) { return std::regex(re, std::regex::ECMAScript | std::regex::optimize); };
    std::vector<GpuRule> r;
    // Quantifiers are bounded: std::regex backtracks, and an unbounded one
    // scans to the end of the line from every start (issue 24 item 13).
    r.push_back({"nvidia", R(R"(\|\s{1,8}\d{1,3}\s{1,8}(NVIDIA [A-Za-z0-9][A-Za-z0-9 .-]{0,60}?)\s{1,20}(?:On|Off)\s+\|)"), 0});
    r.push_back({"compute capability", R(R"(Device \d{1,3}: (NVIDIA [^,]{1,80}), compute capability (\d+)\.(\d+))"), 1});
    r.push_back({"major=", R(R"(name='([^']{1,100})', major=(\d+), minor=(\d+))"), 1});
    r.push_back({"gpu ", R(R"(GPU [\d,]{1,8}: (NVIDIA [A-Za-z0-9][A-Za-z0-9 .-]{0,60}?)\s*(?:\(UUID|$|,))"), 0});
    // Prose: "GPU: RTX 5090", "GPU Type : RTX 3060", "**NVIDIA GPU**: RTX 4080" (kind 4: only a name the GPU table knows).
    r.push_back({"gpu", R(R"((?:^|[^A-Za-z0-9])GPU(?: [Tt]ype| [Mm]odel)?\**\s{0,3}:\s{0,3}\**\s{0,3}([A-Za-z0-9][A-Za-z0-9 .-]{1,40}))"), 4});
    r.push_back({"sm_", R(R"((?:gpu-name|--gpu-architecture|-arch)[= ]sm_(\d+)[af]?\b)"), 2});
    r.push_back({"sm_", R(R"('sm_(\d+)[af]?' is not a recognized processor)"), 2});
    r.push_back({"sm_", R(R"(\.target sm_(\d+)[af]?\b)"), 2});
    return r;
  }();
  return rules;
}

struct VersionRules {
  std::regex package, driver, nvsmi_cuda, driver_number, found_version, torch_cuda;
};
const VersionRules& version_rules() {
  static const VersionRules v = [] {
    auto R = [](const char* re, bool icase = false) {
      auto f = std::regex::ECMAScript | std::regex::optimize;
      if (icase) f |= std::regex::icase;
      return std::regex(re, f);
    };
    VersionRules r;
    r.package = R(R"((?:^|[^A-Za-z0-9_./-])(torch|pytorch|vllm|sglang|sgl[-_]kernel|triton|flashinfer(?:[-_]python)?|transformers|xformers|flash[-_]attn|bitsandbytes|compressed[-_]tensors|nccl|llama[-_]cpp[-_]python|jax|jaxlib)(?: API server)?(?:\s+version)?(?:==|\s*[:=]\s*|\s+|-)v?(\d+\.\d+(?:\.\d+)*(?:\.?(?:post|dev|rc)\d+)*(?:\+[A-Za-z0-9.]+)?)(?![\w.+]))", true);
    r.driver = R(R"((?:Driver Version|driver version)\s*:?\s*(\d{3}\.\d+(?:\.\d+)?))", true);
    r.nvsmi_cuda = R(R"(CUDA Version\s*:\s*(\d+\.\d+))");
    r.driver_number = R(R"(cudaDriverVersion\s*[:=]?\s*(\d{4,5}))");
    r.found_version = R(R"(driver on your system is too old \(found version (\d{4,5})\))");
    r.torch_cuda = R(R"(CUDA used to build PyTorch\s*:\s*(\d+\.\d+))");
    return r;
  }();
  return v;
}

bool contains(std::string_view hay, std::string_view needle) { return hay.find(needle) != std::string_view::npos; }

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

// Learns from one line what the whole log says about the stack.
void learn_context(const std::string& line, const std::string& low, size_t line_no, LogContext& ctx) {
  std::smatch m;
  try {
    std::string scanned_name;
    int scanned_cc = 0;
    const int scanned_kind = scan_found_gpu(line, scanned_name, scanned_cc)         ? 1
                             : scan_with_capability(line, scanned_name, scanned_cc) ? 3
                                                                                    : -1;
    for (size_t r = 0; r <= gpu_rules().size(); ++r) {
      std::string name;
      int cc = 0;
      int kind = 0;
      if (r == 0) {  // the scanned sentences come first, as their regexes did
        if (scanned_kind < 0) continue;
        kind = scanned_kind;
        name = scanned_name;
        cc = scanned_cc;
      } else {
        const GpuRule& rule = gpu_rules()[r - 1];
        if (!contains(low, rule.needle) || !std::regex_search(line, m, rule.re)) continue;
        kind = rule.kind;
        if (kind == 0) {
          name = m[1].str();
          cc = cc_of_gpu_name(name);
        } else if (kind == 1) {
          name = m[1].str();
          cc = std::stoi(m[2].str()) * 10 + std::stoi(m[3].str());
        } else if (kind == 4) {
          name = m[1].str();
          cc = cc_of_gpu_name(name);
          // Prose counts only for a GPU the table knows, and never over a tool's word.
          if (!cc || ctx.gpu_cc) continue;
          while (!name.empty() && name.back() == ' ') name.pop_back();
          ctx.gpu_name = name;
          ctx.gpu_cc = cc;
          ctx.gpu_line = line_no + 1;
          ctx.gpu_from_prose = true;
          break;
        } else {
          cc = std::stoi(m[1].str());
        }
      }
      while (!name.empty() && name.back() == ' ') name.pop_back();
      if (name.size() > 80) name.resize(80);
      if (cc < 10 || cc > 999) cc = 0;
      // A name with its capability beats a bare name; the first GPU named wins otherwise.
      if (ctx.gpu_from_prose && cc) {  // a tool's word beats prose
        ctx.gpu_name.clear();
        ctx.gpu_cc = 0;
        ctx.gpu_from_prose = false;
      }
      if (ctx.gpu_cc == 0 || (ctx.gpu_name.empty() && !name.empty()) || (kind == 1 && ctx.gpu_name.empty())) {
        if (!name.empty()) ctx.gpu_name = name;
        if (cc) ctx.gpu_cc = cc;
        ctx.gpu_line = line_no + 1;
      } else if (!name.empty() && ctx.gpu_name.empty()) {
        ctx.gpu_name = name;
      }
      break;
    }
    if (!ctx.container) {
      static const char* const kContainerHints[] = {"docker run", "docker compose", "docker-compose", "nvcr.io/",
                                                    "nvidia/cuda:", "vllm/vllm-openai", "lmsysorg/sglang", "/.dockerenv"};
      for (const char* hint : kContainerHints)
        if (contains(low, hint)) {
          ctx.container = true;
          ctx.container_why = std::string("'") + hint + "' on line " + std::to_string(line_no + 1);
          break;
        }
      // A container's shell prompt: root@ and 12 hex digits (the container id).
      if (size_t at = line.find("root@"); !ctx.container && at != std::string::npos && line.size() > at + 18 &&
                                          line[at + 17] == ':' &&
                                          std::all_of(line.begin() + at + 5, line.begin() + at + 17,
                                                      [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); })) {
        ctx.container = true;
        ctx.container_why = "a container's prompt (" + line.substr(at, 17) + ") on line " + std::to_string(line_no + 1);
      }
    }
    const VersionRules& v = version_rules();
    static const char* const kVersionNeedles[] = {"torch", "vllm", "sglang", "sgl", "triton", "flashinfer",
                                                  "transformers", "xformers", "flash", "bitsandbytes",
                                                  "compressed", "nccl", "llama", "jax"};
    if (std::any_of(std::begin(kVersionNeedles), std::end(kVersionNeedles), [&](const char* n) { return contains(low, n); })) {
      std::string rest = line.substr(0, 2000);
      for (std::sregex_iterator it(rest.begin(), rest.end(), v.package), end; it != end; ++it) {
        std::string name = dist_name((*it)[1].str());
        if (name == "pytorch") name = "torch";
        if (name == "flashinfer") name = "flashinfer-python";
        std::string ver = (*it)[2].str();
        if (!ctx.versions.count(name)) ctx.versions[name] = ver;
        if (name == "torch" && ctx.torch_cuda.empty()) {
          size_t cu = ver.find("+cu");
          if (cu != std::string::npos && ver.size() >= cu + 5) {
            std::string digits = ver.substr(cu + 3);
            ctx.torch_cuda = digits.substr(0, digits.size() - 1) + "." + digits.substr(digits.size() - 1);
          }
        }
      }
    }
    if (contains(low, "driver") && std::regex_search(line, m, v.driver) && !ctx.versions.count("driver"))
      ctx.versions["driver"] = m[1].str();
    if (contains(line, "CUDA Version") && std::regex_search(line, m, v.nvsmi_cuda) && !ctx.versions.count("driver_cuda"))
      ctx.versions["driver_cuda"] = m[1].str();
    if (contains(line, "cudaDriverVersion") && std::regex_search(line, m, v.driver_number) && !ctx.versions.count("driver_cuda"))
      ctx.versions["driver_cuda"] = cuda_from_number(m[1].str());
    if (contains(low, "too old (found version") && std::regex_search(line, m, v.found_version))
      ctx.versions["driver_cuda"] = cuda_from_number(m[1].str());
    if (contains(line, "CUDA used to build PyTorch") && std::regex_search(line, m, v.torch_cuda))
      ctx.torch_cuda = m[1].str();
  } catch (const std::exception&) {
    // regex complexity or a number out of range: learn nothing from this line
  }
}

std::string context_versions(const LogContext& ctx) {
  std::string out;
  for (const auto& [name, ver] : ctx.versions) {
    if (name == "driver" || name == "driver_cuda") continue;
    out += (out.empty() ? "" : ", ") + name + " " + ver;
  }
  if (ctx.versions.count("driver") || ctx.versions.count("driver_cuda")) {
    out += (out.empty() ? "" : ", ") + std::string("driver");
    if (ctx.versions.count("driver")) out += " " + ctx.versions.at("driver");
    if (ctx.versions.count("driver_cuda")) out += " (supports CUDA " + ctx.versions.at("driver_cuda") + ")";
  }
  return out;
}

}  // namespace

// ---- The streaming matcher ---------------------------------------------------------

namespace {

struct PendingLine {
  std::string text;  // ANSI stripped, at most kMaxLineBytes
  std::string low;   // lower case, first kMaxMatchChars
  size_t number;     // 0-based
  bool has_needle = false;  // some signature's needle occurs in it (else no window starting here can match)
};

struct Record {
  const SignatureSet::Signature* sig;
  Finding f;
  bool released = false;
};

std::string first_nonempty(const std::map<std::string, std::string>& v, const char* a) {
  auto it = v.find(a);
  return it == v.end() ? std::string() : it->second;
}

}  // namespace

struct ExplainStream::State {
  std::deque<PendingLine> window;
  // Traceback frames seen lately: the importer of a failed import is the
  // last frame before the error.
  struct Frame {
    std::string module, package, where;
    size_t line;
  };
  std::deque<Frame> frames;
  // The last library/package a line named, and the last torch.ops namespace.
  std::string hint_package, hint_where;
  size_t hint_line = 0;
  std::string ops_ns;
  size_t ops_line = 0;
  std::vector<Record> records;  // bounded by kMaxFindings
  std::map<std::string, size_t> by_key;
  std::set<std::string> matched_ids;
  size_t released = 0;
  bool unlocated = false;  // some finding has no failing_package yet
  std::string so_path;     // the last shared library a line named by absolute path
  size_t so_line = 0;
  std::map<std::string, std::string> so_code;  // path -> what it holds (at most 16 read)
};

namespace {

// The first absolute path to a shared library on a line ("/x/libfoo.so",
// "/x/libcudart.so.12"), by a scan from each ".so" back to the path's start:
// linear, where a regex tried every '/' and scanned on (issue 24 item 13).
std::string first_so_path(std::string_view line) {
  auto path_char = [](char c) {
    return !std::isspace(static_cast<unsigned char>(c)) && c != '\'' && c != '"' && c != '(' && c != ')' && c != ':' &&
           c != ',';
  };
  size_t run_start = 0;  // start of the run of path characters the last ".so" was in
  for (size_t at = line.find(".so"); at != std::string_view::npos; at = line.find(".so", at + 1)) {
    size_t end = at + 3;
    while (end + 1 < line.size() && line[end] == '.' && std::isdigit(static_cast<unsigned char>(line[end + 1]))) {
      ++end;
      while (end < line.size() && std::isdigit(static_cast<unsigned char>(line[end]))) ++end;
    }
    if (end < line.size() && (std::isalnum(static_cast<unsigned char>(line[end])) || line[end] == '_')) continue;
    // Back over path characters (never further back than the previous ".so"'s run: linear).
    size_t start = at;
    while (start > run_start && path_char(line[start - 1])) --start;
    run_start = at;
    const size_t slash = line.substr(start, at - start).find('/');
    if (slash == std::string_view::npos || at - (start + slash) < 2) continue;
    return std::string(line.substr(start + slash, end - start - slash));
  }
  return {};
}

constexpr size_t kFrameReach = 60;  // a frame or path further back than this many lines says nothing

void learn_position(ExplainStream::State& st, const PendingLine& pl) {
  const std::string& line = pl.text;
  const std::string& low = pl.low;
  if (contains(line, "Traceback (most recent call last)")) st.frames.clear();
  std::string where, module;
  if (contains(line, "File \"") && contains(line, "\", line ")) {
    std::string pkg = package_in_path(line, where, &module);
    if (pkg.empty()) {  // a frame outside site-packages: the user's code or a source checkout
      size_t q = line.find("File \"") + 6;
      size_t e = line.find('"', q);
      where = line.substr(q, e - q);
    }
    st.frames.push_back({module, pkg, where, pl.number});
    if (st.frames.size() > 64) st.frames.pop_front();
    return;
  }
  bool hint = false;
  if (std::string pkg = package_in_path(line, where); !pkg.empty()) {
    st.hint_package = pkg;
    st.hint_where = where;
    st.hint_line = pl.number;
    hint = true;
  } else {
    for (const auto& lib : kNamedLibraries) {
      if (!contains(low, lib.needle)) continue;
      st.hint_package = lib.package;
      st.hint_where = lib.where;
      st.hint_line = pl.number;
      hint = true;
      break;
    }
  }
  if (std::string path = first_so_path(std::string_view(line).substr(0, kMaxMatchChars)); !path.empty()) {
    st.so_path = std::move(path);
    st.so_line = pl.number;
  }
  // A C++ error names the library after the message (its stack follows it):
  // findings just before this line that named no package get this one.
  if (hint && st.unlocated)
    for (auto& r : st.records) {
      auto& v = r.f.values;
      if (!v["failing_package"].empty() || r.f.line > pl.number || pl.number - r.f.line + 1 > kFrameReach) continue;
      v["failing_package"] = st.hint_package;
      v["failing_where"] = st.hint_where;
    }
  if (size_t at = line.find("torch.ops."); at != std::string::npos) {
    size_t s = at + 10, e = s;
    while (e < line.size() && (std::isalnum(static_cast<unsigned char>(line[e])) || line[e] == '_')) ++e;
    std::string ns = line.substr(s, e - s);
    if (!ns.empty() && ns != "aten" && ns != "prims" && ns != "higher_order") {
      st.ops_ns = ns;
      st.ops_line = pl.number;
    }
  }
}

// Where the failing code lives, for a match on line `at`: the line itself,
// a torch.ops namespace, the innermost frame, a recent path or library name.
// A library named on a line (a path into site-packages, or a known library
// name), not counting traceback frames.
std::string named_on_line(const std::string& text, const std::string& low, std::string& where) {
  if (contains(text, "File \"") && contains(text, "\", line ")) return {};
  std::string pkg = package_in_path(text, where);
  if (!pkg.empty()) return pkg;
  for (const auto& lib : kNamedLibraries)
    if (contains(low, lib.needle)) {
      where = lib.where;
      return lib.package;
    }
  return {};
}

void locate(const ExplainStream::State& st, const std::string& matched, size_t at,
            std::map<std::string, std::string>& values) {
  std::string where;
  std::string pkg = named_on_line(matched, lower(matched.substr(0, kMaxMatchChars)), where);
  // A C++ error names the library on the lines right after the message (its
  // stack follows it): the lines of the window after this one.
  for (size_t k = 1; pkg.empty() && k < st.window.size(); ++k)
    pkg = named_on_line(st.window[k].text, st.window[k].low, where);
  const ExplainStream::State::Frame* last = nullptr;
  if (!st.frames.empty() && at - st.frames.back().line <= kFrameReach) last = &st.frames.back();
  if (pkg.empty() && !st.ops_ns.empty() && at - st.ops_line <= kFrameReach) {
    pkg = dist_of_ops_namespace(st.ops_ns);
    where = "torch.ops." + st.ops_ns;
  }
  if (pkg.empty() && last && !last->package.empty()) {
    pkg = last->package;
    where = last->where;
    // torch's own dispatch and compile layers run other packages' kernels: the caller says whose.
    if (pkg == "torch") {
      for (auto it = st.frames.rbegin(); it != st.frames.rend(); ++it) {
        if (it->package.empty() || it->package == "torch" || it->package == "triton") continue;
        static const std::set<std::string> kKernelPackages = {
            "xformers", "flash-attn", "flash-attn-3", "sgl-kernel", "flashinfer-python", "bitsandbytes",
            "vllm-flash-attn", "mamba-ssm", "causal-conv1d", "auto-gptq", "autoawq", "exllamav2", "deep-gemm"};
        if (kKernelPackages.count(it->package)) {
          pkg = it->package;
          where = it->where;
        }
        break;
      }
    }
  }
  if (pkg.empty() && !st.hint_package.empty() && at - st.hint_line <= kFrameReach) {
    pkg = st.hint_package;
    where = st.hint_where;
  }
  if (!st.so_path.empty() && at - st.so_line <= kFrameReach) values["so_path"] = st.so_path;
  values["failing_package"] = pkg;
  values["failing_where"] = where.size() > 200 ? where.substr(0, 200) + "..." : where;
  if (last) {
    values["importer"] = last->module;
    values["importer_package"] = last->package;
  }
}

// The concrete replacement for code that has nothing for this GPU.
std::string package_fix(const LogContext& ctx, int cc, const std::string& pkg) {
  const GpuGeneration* gen = cc ? find_generation(static_cast<uint16_t>(cc)) : nullptr;
  auto drv = ctx.versions.find("driver_cuda");
  if (gen && drv != ctx.versions.end() && !drv->second.empty() && version_less(drv->second, gen->first_cuda))
    return "the driver supports CUDA " + drv->second + " only, older than CUDA " + gen->first_cuda +
           ", the first for sm_" + std::to_string(cc) + ": update the NVIDIA driver to one for CUDA " + gen->first_cuda +
           " or newer first; then " + fix_hint(static_cast<uint16_t>(cc), pkg.empty() ? "torch" : pkg);
  if (!cc) {
    if (pkg.empty()) return {};
    if (pkg.find(' ') != std::string::npos)  // not a pip package: a source build or a bundled copy
      return "rebuild " + pkg + " with your GPU's architecture in its CUDA architectures (CMAKE_CUDA_ARCHITECTURES / -arch; CUDA 12.8+ for Blackwell), or install a release built for it";
    return "install a build of " + pkg + " made for your GPU's architecture and the installed torch/CUDA line (`smwatch doctor` prints which)";
  }
  if ((pkg.empty() || pkg == "torch") && gen && !ctx.torch_cuda.empty() && version_less(ctx.torch_cuda, gen->first_cuda)) {
    auto tv = ctx.versions.find("torch");
    return "torch " + (tv == ctx.versions.end() ? std::string() : tv->second + " ") + "is built with CUDA " + ctx.torch_cuda +
           ", older than CUDA " + gen->first_cuda + " (the first for sm_" + std::to_string(cc) + "): " +
           fix_hint(static_cast<uint16_t>(cc), "torch");
  }
  if (pkg.empty()) return fix_hint(static_cast<uint16_t>(cc));
  if (pkg.find(' ') != std::string::npos)  // "the bundled flash-attention (...)", "llama.cpp (ggml-cuda)"
    return "rebuild " + pkg + " with sm_" + std::to_string(cc) + " in its CUDA architectures (CUDA " +
           (gen ? gen->first_cuda : "12.8") + " or newer), or install a release that includes it";
  return fix_hint(static_cast<uint16_t>(cc), pkg);
}

// ---- Derived values: fixes made of the knowledge tables -----------------------

const json& knowledge_rows(const json& kn, const char* key) {
  static const json kEmpty = json::array();
  auto it = kn.find(key);
  return it != kn.end() && it->is_array() ? *it : kEmpty;
}
std::string row_text(const json& row, const char* key) {
  auto it = row.find(key);
  return it != row.end() && it->is_string() ? it->get<std::string>() : std::string();
}
// The row whose [cc_min, cc_max] holds cc.
const json* row_for_cc(const json& rows, int cc) {
  for (const auto& row : rows)
    if (row.is_object() && row.value("cc_min", 0) <= cc && cc <= row.value("cc_max", 0)) return &row;
  return nullptr;
}
std::string gpu_desc(int cc) {
  const GpuGeneration* gen = cc ? find_generation(static_cast<uint16_t>(cc)) : nullptr;
  return "sm_" + std::to_string(cc) + (gen ? std::string(" (") + gen->gpus + ")" : std::string());
}
int int_of(const std::string& s, int base = 10) {
  int v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v, base);
  return v;
}

// The PyTorch builds that still include `cc`, from the knowledge table
// ("torch_builds": line, torch versions, oldest and newest architecture).
std::string torch_lines_for(const json& kn, int cc) {
  std::string out;
  for (const auto& row : knowledge_rows(kn, "torch_builds")) {
    if (!row.is_object() || row.value("cc_min", 0) > cc || cc > row.value("cc_max", 0)) continue;
    out += (out.empty() ? "" : "; ") + row_text(row, "line") + " builds of torch " + row_text(row, "torch") + " (sm_" +
           std::to_string(row.value("cc_min", 0)) + "-sm_" + std::to_string(row.value("cc_max", 0)) + ")";
  }
  return out;
}

// TensorRT's "Target GPU SM 120 is not supported", "Unsupported SM: 0x809"
// (major and minor in hex digits), or the bare assertion (the log's GPU, if any).
void derive_tensorrt(std::map<std::string, std::string>& v, const LogContext& ctx, const json& kn) {
  int cc = 0;
  if (!first_nonempty(v, "sm_dec").empty()) cc = int_of(v["sm_dec"]);
  else if (!first_nonempty(v, "sm_hex").empty()) {
    const int hex = int_of(v["sm_hex"], 16);
    cc = (hex >> 8) * 10 + (hex & 0xff);
  }
  if (!cc) cc = ctx.gpu_cc;
  v["trt_gpu"] = cc ? gpu_desc(cc) : "";
  v["trt_known"] = cc ? "The GPU is " + gpu_desc(cc) + "." : "";
  const json* row = cc ? row_for_cc(knowledge_rows(kn, "tensorrt"), cc) : nullptr;
  if (row && !row_text(*row, "last").empty())
    v["trt_fix"] = "Use an older TensorRT: " + row_text(*row, "last") + " was the last release for " + gpu_desc(cc) + " (" +
                   row_text(*row, "source") + "); or run on a newer GPU.";
  else if (row)
    v["trt_fix"] = "Install a newer TensorRT: " + row_text(*row, "first") + " or newer supports " + gpu_desc(cc) + " (" +
                   row_text(*row, "source") + "); it needs the CUDA version its release notes name, and engines must be rebuilt with it.";
  else
    v["trt_fix"] = std::string(cc ? "Install a TensorRT release whose support matrix lists " + gpu_desc(cc)
                                  : "Find the GPU's compute capability (nvidia-smi --query-gpu=compute_cap --format=csv) and install a TensorRT release whose support matrix lists it") +
                   ": a newer TensorRT for a newer GPU, an older TensorRT for a GPU a release has dropped (TensorRT 8.6 dropped Kepler and Maxwell, 10.0 Pascal); engines must be rebuilt with it.";
}

// ptxas: "Instruction 'wgmma.fence' not supported on .target 'sm_120'".
void derive_instruction(std::map<std::string, std::string>& v, const json& kn) {
  const std::string instr = first_nonempty(v, "instruction"), arch = first_nonempty(v, "arch");
  std::string only, source;
  for (const auto& row : knowledge_rows(kn, "arch_specific_instructions"))
    if (row.is_object() && instr.starts_with(row_text(row, "prefix"))) {
      only = row_text(row, "only");
      source = row_text(row, "source");
      break;
    }
  const bool generic = !arch.empty() && arch.back() != 'a' && arch.back() != 'f';
  if (!only.empty() && (" " + only + " ").find(" " + arch + "a ") == std::string::npos && (" " + only + " ").find(" " + arch + " ") == std::string::npos) {
    v["instr_cause"] = "'" + instr + "' exists only on " + only + " (" + source + "): no target for " + arch +
                       " has it, so kernels written with it cannot be built for " + arch + ".";
    v["instr_fix"] = "Do not build those kernels for " + arch + ": when " + arch + " is the GPU, leave the " + only +
                     " architectures out of TORCH_CUDA_ARCH_LIST / CMAKE_CUDA_ARCHITECTURES (the list says what to build; " +
                     "'9.0' with sm_90a kernels makes ptxas assemble them for the other targets too), or use a release that has " + arch + " kernels.";
  } else {
    const std::string target = generic ? arch + "a" : arch;
    v["instr_cause"] = "'" + instr + "' is an architecture-specific feature: ptxas accepts it only for the 'a' target (" + target +
                       "), whose code runs on that one GPU generation, not for the portable " + arch + ".";
    v["instr_fix"] = "Build for " + target + ": -gencode arch=compute_" + target.substr(3) + ",code=" + target +
                     " (TORCH_CUDA_ARCH_LIST=\"" + std::to_string(int_of(target.substr(3)) / 10) + "." +
                     std::to_string(int_of(target.substr(3)) % 10) + "a\", CMAKE_CUDA_ARCHITECTURES=" + target.substr(3) +
                     "), as the project's own build does for that GPU; or a release built that way.";
  }
}

// Triton ran its ptxas (the bundled one, ptxas-blackwell for sm_100 and newer
// in Triton 3.6+, or TRITON_PTXAS_PATH's) and it failed for the GPU.
void derive_triton_ptxas(std::map<std::string, std::string>& v, const LogContext& ctx, const json& kn) {
  const std::string tool = first_nonempty(v, "tool"), path = first_nonempty(v, "ptxas_path"), sm = first_nonempty(v, "sm");
  const std::string first_cuda = first_nonempty(v, "first_cuda").empty() ? "a newer CUDA" : "CUDA " + v["first_cuda"];
  const int cc = int_of(first_nonempty(v, "cc").empty() ? "0" : std::to_string(int_of(v["cc"]) * 10 + int_of(v["cc"].substr(v["cc"].find('.') + 1))));
  std::string triton_first;
  if (const json* row = row_for_cc(knowledge_rows(kn, "triton_ptxas"), cc))
    triton_first = "triton " + row_text(*row, "first") + " or newer (" + row_text(*row, "source") + ")";
  auto tv = ctx.versions.find("triton");
  const std::string have = tv == ctx.versions.end() ? std::string("this Triton") : "triton " + tv->second;
  const bool bundled = path.find("triton/backends/nvidia/bin") != std::string::npos ||
                       path.find("triton\\\\backends\\\\nvidia\\\\bin") != std::string::npos ||
                       path.find("triton\\backends\\nvidia\\bin") != std::string::npos;
  if (tool == "ptxas-blackwell") {
    v["ptxas_cause"] = have + " compiles for sm_100 and newer with ptxas-blackwell (Triton 3.6+), the one it bundles or TRITON_PTXAS_BLACKWELL_PATH's; it failed for " + sm + ". TRITON_PTXAS_PATH is not used for these GPUs.";
    v["ptxas_fix"] = "export TRITON_PTXAS_BLACKWELL_PATH=<" + first_cuda + " or newer>/bin/ptxas (not TRITON_PTXAS_PATH), or upgrade triton" +
                     (triton_first.empty() ? std::string() : " (" + triton_first + ")") + ".";
  } else if (bundled) {
    v["ptxas_cause"] = "The ptxas bundled with " + have + " (" + path + ") exited with status " + first_nonempty(v, "status") +
                       " for " + sm + ": a ptxas from a CUDA older than " + first_cuda + " does not know " + sm + " (its own message, above the traceback, says so).";
    v["ptxas_fix"] = "Upgrade triton to one whose bundled ptxas knows " + sm + (triton_first.empty() ? std::string() : " (" + triton_first + ")") +
                     ", or point Triton at a newer ptxas: export TRITON_PTXAS_PATH=<" + first_cuda + " or newer>/bin/ptxas.";
  } else {
    v["ptxas_cause"] = "Triton ran the ptxas at " + path + " (TRITON_PTXAS_PATH or the CUDA toolkit it found) and it exited with status " +
                       first_nonempty(v, "status") + " for " + sm + ": if that CUDA is older than " + first_cuda +
                       " it does not know " + sm + "; otherwise ptxas's own message (above the traceback) says why.";
    v["ptxas_fix"] = "Point TRITON_PTXAS_PATH at a ptxas from " + first_cuda + " or newer, or unset it to use the one Triton bundles" +
                     (triton_first.empty() ? std::string() : " (" + triton_first + " for " + sm + ")") + ".";
  }
}

// xFormers: "built for: PyTorch 2.1.2+cu121 with CUDA 1201 (you have 2.1.2+cpu)".
void derive_xformers(std::map<std::string, std::string>& v) {
  const std::string built = first_nonempty(v, "built_torch"), have = first_nonempty(v, "have_torch");
  const std::string cuda = first_nonempty(v, "built_cuda");
  const std::string line = cuda.size() >= 3 ? "cu" + cuda.substr(0, cuda.size() - 2) + cuda.substr(cuda.size() - 1) : "";
  if (have.find("+cpu") != std::string::npos || (have.find('+') == std::string::npos && have == built.substr(0, built.find('+')))) {
    v["xformers_cause"] = "torch " + have + " is a CPU-only build (no '+cuXXX'): xformers' CUDA kernels need a CUDA build of the same torch.";
    v["xformers_fix"] = "torch " + have + " is the CPU build: install the CUDA build of torch that xformers was built for: pip install torch==" + built.substr(0, built.find('+')) +
                        (line.empty() ? std::string() : " --index-url https://download.pytorch.org/whl/" + line) + " (then reinstall xformers if pip replaced it).";
  } else {
    v["xformers_cause"] = "xformers' C++/CUDA extensions are built against one torch release; with torch " + have +
                          " they do not load, and memory-efficient attention, SwiGLU and the other ops fall back or fail.";
    v["xformers_fix"] = "Install the xformers release built for torch " + have +
                        " (pip install -U xformers --index-url https://download.pytorch.org/whl/<the +cuXXX of your torch> picks it), or install torch " + built +
                        " that this xformers was built for; install the two together so that pip keeps them matched.";
  }
}

// PyTorch's "Found GPU0 X which is of cuda capability 12.1 ... (8.0) - (12.0)": read the range.
void derive_capability_range(std::map<std::string, std::string>& v, const json& kn) {
  auto num = [](const std::string& s) {
    size_t dot = s.find('.');
    if (dot == std::string::npos) return 0;
    try {
      return std::stoi(s.substr(0, dot)) * 10 + std::stoi(s.substr(dot + 1));
    } catch (...) {
      return 0;
    }
  };
  // PyTorch's "not compatible" warning lists the build's architectures instead of a range.
  if (first_nonempty(v, "min_cc").empty() && !first_nonempty(v, "supported").empty()) {
    int lo_sm = 0, hi_sm = 0;
    const std::string list = v["supported"];
    for (size_t at = 0; (at = list.find("sm_", at)) != std::string::npos; at += 3) {
      int n = 0;
      std::from_chars(list.data() + at + 3, list.data() + list.size(), n);
      if (n <= 0) continue;
      lo_sm = lo_sm ? std::min(lo_sm, n) : n;
      hi_sm = std::max(hi_sm, n);
    }
    if (lo_sm) v["min_cc"] = std::to_string(lo_sm / 10) + "." + std::to_string(lo_sm % 10);
    if (hi_sm) v["max_cc"] = std::to_string(hi_sm / 10) + "." + std::to_string(hi_sm % 10);
    if (first_nonempty(v, "cc_text").empty() && !first_nonempty(v, "cc").empty()) v["cc_text"] = v["cc"];
  }
  // torch >= 2.9 lists what it was built for instead: "- 7.5 which supports hardware CC >=7.5,<8.0".
  bool listed_inside = false;
  if (first_nonempty(v, "min_cc").empty() && !first_nonempty(v, "cc_list").empty()) {
    const int dev = num(first_nonempty(v, "cc_text"));
    int lo_l = 0, hi_l = 0;
    std::istringstream rows(v["cc_list"]);
    for (std::string row; std::getline(rows, row);) {
      size_t ge = row.find(">="), lt = row.find(",<");
      if (ge == std::string::npos || lt == std::string::npos) continue;
      const int a = num(row.substr(ge + 2, lt - ge - 2));
      std::string b_text = row.substr(lt + 2);
      b_text = b_text.substr(0, b_text.find_first_not_of("0123456789."));
      const int b = num(b_text);
      if (!a || !b) continue;
      lo_l = lo_l ? std::min(lo_l, a) : a;
      hi_l = std::max(hi_l, b - 1);
      const bool excepted = row.find("except") != std::string::npos &&
                            row.find(std::to_string(dev / 10) + "." + std::to_string(dev % 10), row.find("except")) != std::string::npos;
      if (dev >= a && dev < b && !excepted) listed_inside = true;
    }
    if (lo_l) v["min_cc"] = std::to_string(lo_l / 10) + "." + std::to_string(lo_l % 10);
    if (hi_l && !listed_inside && dev > hi_l) v["max_cc"] = std::to_string(hi_l / 10) + "." + std::to_string(hi_l % 10);
  }
  int cc = num(first_nonempty(v, "cc_text")), lo = num(first_nonempty(v, "min_cc")), hi = num(first_nonempty(v, "max_cc"));
  std::string gpu = first_nonempty(v, "gpu"), sm = "sm_" + std::to_string(cc);
  if (!cc) return;
  const GpuGeneration* gen = find_generation(static_cast<uint16_t>(cc));
  const std::string torch_fix = fix_hint(static_cast<uint16_t>(cc), "torch");
  v["older_line_fix"] = "";
  const bool too_old = !first_nonempty(v, "too_old").empty() || (!lo && !hi && cc < 50);
  if ((lo && cc < lo) || too_old) {
    v["range_verdict"] = "below";
    v["severity"] = "error";
    v["range_title"] = "PyTorch no longer supports the " + gpu + " (" + sm + ")" +
                       (lo ? ": its oldest GPU is " + first_nonempty(v, "min_cc") : std::string(": the GPU is too old for it"));
    v["range_cause"] = "This PyTorch build's CUDA line starts at compute capability " +
                       (lo ? first_nonempty(v, "min_cc") : std::string("a newer one")) + ", above the GPU's " +
                       first_nonempty(v, "cc_text") + ": kernels will fail with \"no kernel image is available\".";
    // Which builds still include the GPU: the knowledge table, per torch version (cu128 did not always start at 7.0).
    const std::string lines = torch_lines_for(kn, cc);
    std::string oldest_line;
    for (const auto& row : knowledge_rows(kn, "torch_builds"))
      if (row.is_object() && row.value("cc_min", 0) <= cc && cc <= row.value("cc_max", 0)) {
        oldest_line = row_text(row, "line");
        break;
      }
    v["range_fix"] = lines.empty()
                         ? "No current PyTorch build includes " + sm + ": use an old PyTorch release from an older CUDA line built for it, or build from source with TORCH_CUDA_ARCH_LIST=\"" +
                               first_nonempty(v, "cc_text") + "\" and a CUDA toolkit that still targets it"
                         : "Install a PyTorch build from an older CUDA line that still includes " + sm + ": " + lines +
                               ", e.g. pip install torch --index-url https://download.pytorch.org/whl/" + oldest_line +
                               ", or build from source with TORCH_CUDA_ARCH_LIST=\"" + first_nonempty(v, "cc_text") + "\"";
    v["older_line_fix"] = v["range_fix"];
  } else if (hi && cc / 10 > hi / 10) {
    v["range_verdict"] = "above";
    v["severity"] = "error";
    v["range_title"] = "PyTorch has no code for the " + gpu + " (" + sm + "): its newest GPU is " + first_nonempty(v, "max_cc");
    v["range_cause"] = "Compute capability " + first_nonempty(v, "cc_text") + " is a newer major than this build's maximum " +
                       first_nonempty(v, "max_cc") + ": its SASS does not run there, and kernels will fail with \"no kernel image is available\".";
    v["range_fix"] = torch_fix;
  } else if (hi && cc > hi) {
    v["range_verdict"] = "false-alarm";
    v["severity"] = "warning";
    v["range_title"] = "A false alarm: the " + gpu + " (" + sm + ") runs this PyTorch's sm_" + std::to_string(hi) + " code";
    v["range_cause"] = "Compute capability " + first_nonempty(v, "cc_text") + " is a newer minor of the same major as the build's maximum " +
                       first_nonempty(v, "max_cc") + "; SASS for sm_" + std::to_string(hi) + " runs on it unchanged" +
                       (gen ? std::string(" (") + gen->gpus + ")" : std::string()) +
                       ". PyTorch's check compares the numbers only (the warning is gone in torch 2.11).";
    v["range_fix"] = "Nothing to fix for this warning; it can be ignored (or upgrade torch to 2.11 or newer, which no longer prints it). Look at the other findings for the real failure, if any.";
  } else {
    v["range_verdict"] = "inside";
    v["severity"] = "warning";
    v["range_title"] = "PyTorch's capability check for the " + gpu + " (" + sm + ")";
    v["range_cause"] = "The GPU's compute capability is inside the build's range.";
    v["range_fix"] = "Nothing to fix for this warning.";
  }
}

}  // namespace

namespace {

// Prefixes that tools put before every line of a program's output, dropped
// so that they never become part of a value (the GPU name):
//   docker compose  "vllm-1  | "   (and it says the log is from a container)
//   vLLM's processes "(EngineCore_0 pid=9492) ", "(APIServer pid=1) "
//   torch.distributed "[rank0]: "
std::string strip_log_prefix(std::string text, LogContext& ctx) {
  std::string_view line = text;
  size_t i = 0;
  while (i < line.size() && i < 64 &&
         (std::isalnum(static_cast<unsigned char>(line[i])) || line[i] == '-' || line[i] == '_' || line[i] == '.'))
    ++i;
  size_t j = i;
  while (j < line.size() && line[j] == ' ' && j - i < 16) ++j;
  if (i > 0 && j > i && j < line.size() && line[j] == '|' && (j + 1 == line.size() || line[j + 1] == ' ')) {
    if (!ctx.container) ctx.container_why = "docker compose's prefix '" + std::string(line.substr(0, i)) + " |'";
    ctx.container = true;
    line.remove_prefix(std::min(line.size(), j + 2));
  }
  if (line.starts_with("(")) {
    size_t close = line.find(") ");
    if (close != std::string_view::npos && close < 48 && line.substr(0, close).find(" pid=") != std::string_view::npos)
      line.remove_prefix(close + 2);
  }
  if (line.starts_with("[rank")) {
    size_t close = line.find("]: ");
    if (close != std::string_view::npos && close < 16) line.remove_prefix(close + 3);
  }
  return line.size() == text.size() ? text : std::string(line);
}

}  // namespace

ExplainStream::ExplainStream(const SignatureSet& sigs, Callback on_finding, const PythonEnv* env)
    : sigs_(sigs), on_finding_(std::move(on_finding)), env_(env), st_(std::make_unique<State>()) {}
ExplainStream::~ExplainStream() = default;

void ExplainStream::feed(std::string_view bytes) {
  while (!bytes.empty()) {
    size_t nl = bytes.find('\n');
    std::string_view piece = bytes.substr(0, nl);
    if (!partial_cut_) {
      size_t room = kMaxLineBytes - partial_.size();
      if (piece.size() > room) {
        partial_.append(piece.substr(0, room));
        partial_cut_ = true;
      } else {
        partial_.append(piece);
      }
    }
    if (nl == std::string_view::npos) break;
    push_line(partial_);
    partial_.clear();
    partial_cut_ = false;
    bytes.remove_prefix(nl + 1);
  }
}

void ExplainStream::push_line(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  PendingLine pl;
  pl.text = strip_log_prefix(strip_ansi(line), ctx_);
  pl.low = lower(std::string_view(pl.text).substr(0, kMaxMatchChars));
  pl.number = line_no_++;
  if (pl.low.size() >= sigs_.min_needle_)
    for (const auto& sig : sigs_.signatures_) {
      if (std::any_of(sig->needles.begin(), sig->needles.end(), [&](const std::string& n) { return contains(pl.low, n); })) {
        pl.has_needle = true;
        break;
      }
    }
  st_->window.push_back(std::move(pl));
  while (st_->window.size() >= sigs_.max_lines_) process_front(false);
}

void ExplainStream::idle() {
  while (!st_->window.empty()) process_front(true);
}

namespace {

// What a shared library the log names holds, read with the inspector (only
// for a regular file that exists here: the log may come from this machine).
std::string describe_library(const std::string& path, int cc) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return {};
  FileScan scan = scan_file(path, ScanOptions{.kernels = false, .probe_kernels = false, .budget = nullptr});
  if (!scan.read_error.empty()) return {};
  std::set<std::string> sass, ptx;
  bool runs = false, jit = false;
  for (const auto& c : scan.containers)
    for (const auto& img : c.images) {
      (img.kind == CodeKind::kSass ? sass : ptx).insert(img.kind == CodeKind::kSass ? img.arch.sm_name() : img.arch.compute_name());
      if (cc) {
        Usability u = usability(img.kind, img.arch, static_cast<uint16_t>(cc));
        runs = runs || u == Usability::kSass;
        jit = jit || u == Usability::kJit;
      }
    }
  if (sass.empty() && ptx.empty()) return path + " (here) holds no GPU code.";
  auto join = [](const std::set<std::string>& s) {
    std::string out;
    for (const auto& x : s) out += (out.empty() ? "" : " ") + x;
    return out;
  };
  std::string out = path + " (here) holds " + (sass.empty() ? std::string("no SASS") : "SASS " + join(sass)) + ", " +
                    (ptx.empty() ? std::string("no PTX") : "PTX " + join(ptx));
  if (cc) {
    const std::string sm = "sm_" + std::to_string(cc);
    out += runs ? ": code that runs on " + sm : jit ? ": only PTX the driver must JIT for " + sm : ": nothing for " + sm;
  }
  return out + ".";
}

void render(Record& r, const LogContext& ctx, const PythonEnv* env, const json& kn, ExplainStream::State* st = nullptr) {
  const auto* sig = r.sig;
  auto& v = r.f.values;
  // Derived from the whole log (recomputed at the end, when more is known).
  int cc = ctx.gpu_cc;
  if (auto it = v.find("cc"); it != v.end() && !it->second.empty()) {  // the finding's own GPU wins
    if (auto t = smwatch::parse_target(it->second)) cc = t->cc;
  }
  v["log_gpu"] = ctx.gpu_name.empty() ? (ctx.gpu_cc ? "sm_" + std::to_string(ctx.gpu_cc) : std::string())
                                      : ctx.gpu_name + (ctx.gpu_cc ? " (sm_" + std::to_string(ctx.gpu_cc) + ")" : std::string());
  v["log_sm"] = ctx.gpu_cc ? "sm_" + std::to_string(ctx.gpu_cc) : std::string();
  v["versions"] = context_versions(ctx);
  v["package_fix"] = package_fix(ctx, cc, first_nonempty(v, "failing_package"));
  v["failing_in"] = first_nonempty(v, "failing_package").empty() ? std::string() : " in " + v["failing_package"];
  // SGLang advice: graph capture and flashinfer can be switched off; a kernel of sgl-kernel cannot.
  if (first_nonempty(v, "failing_package") == "sgl-kernel")
    v["serving_fix"] = "The failing kernel is an sgl-kernel op: --disable-cuda-graph and --disable-flashinfer do not avoid it. Install the sgl-kernel build for your GPU and torch's CUDA line" +
                       (cc ? std::string(": ") + fix_hint(static_cast<uint16_t>(cc), "sgl-kernel") : std::string(" (a cu128+ build for Blackwell GPUs)")) + ".";
  else
    v["serving_fix"] = "";
  v["log_cc_digits"] = ctx.gpu_cc ? std::to_string(ctx.gpu_cc) : std::string();
  // In a container, torch and its CUDA line come with the image: the fix is another image.
  v["container_fix"] = "";
  if (ctx.container && cc) {
    const GpuGeneration* gen = find_generation(static_cast<uint16_t>(cc));
    const std::string lines = torch_lines_for(kn, cc);
    v["container_fix"] = "This log is from a container (" + ctx.container_why +
                         "): its torch comes with the image, and pip-installing another into it fights the image's pins and is lost with the container. Use an image whose torch includes sm_" +
                         std::to_string(cc) + (gen && *gen->pytorch_line ? std::string(" (a ") + gen->pytorch_line + " build or newer)" : std::string()) +
                         ": a newer tag of the image, or one built on such a PyTorch image" + (lines.empty() ? std::string() : "; builds that include it: " + lines);
  }
  if (const std::string lib = first_nonempty(v, "library"); !lib.empty()) {
    // "libcublas.so.12" or "cublas64_12.dll": the CUDA major it was built for.
    size_t at = lib.find(".so.");
    std::string major = at != std::string::npos ? lib.substr(at + 4, lib.find('.', at + 4) - at - 4)
                                                : lib.find("64_") != std::string::npos ? lib.substr(lib.find("64_") + 3, 2) : "";
    if (!major.empty() && std::all_of(major.begin(), major.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
      v["library_cuda"] = major;
      v["library_cuda_major"] = major;
    }
  }
  if (const std::string lib = first_nonempty(v, "library"); !lib.empty()) {
    // The nvidia-* wheel that ships a CUDA library (its CUDA major from torch's build, when the log says).
    const std::string cu = ctx.torch_cuda.empty() ? std::string("XX") : ctx.torch_cuda.substr(0, ctx.torch_cuda.find('.'));
    v["runtime_wheel"] = lib.starts_with("libcudnn")    ? "pip install nvidia-cudnn-cu" + cu + " for " + lib
                         : lib.starts_with("libcublas") ? "pip install nvidia-cublas-cu" + cu
                         : lib.starts_with("libcudart") ? "pip install nvidia-cuda-runtime-cu" + first_nonempty(v, "major")
                                                        : "the nvidia-* wheel or CUDA toolkit that ships " + lib;
  }
  if (const std::string tag = first_nonempty(v, "bnb_cuda"); tag.size() >= 3)
    v["bnb_cuda_text"] = tag.substr(0, tag.size() - 1) + "." + tag.substr(tag.size() - 1);
  if (sig->derive == "capability-range") derive_capability_range(v, kn);
  else if (sig->derive == "tensorrt-sm") derive_tensorrt(v, ctx, kn);
  else if (sig->derive == "arch-specific-instruction") derive_instruction(v, kn);
  else if (sig->derive == "triton-ptxas") derive_triton_ptxas(v, ctx, kn);
  else if (sig->derive == "xformers-torch") derive_xformers(v);
  // The Python environment: what is installed, what the importer requires, the pin.
  v["env_note"] = "";
  v["env_pin"] = "";
  if (env) {
    std::string pkg = first_nonempty(v, "package");
    if (pkg.empty()) pkg = first_nonempty(v, "failing_package");
    const std::string importer = first_nonempty(v, "importer_package");
    std::string note, pin;
    if (!pkg.empty() && pkg.find(' ') == std::string::npos) {
      std::string dist = dist_of_module(pkg);
      const PythonEnv::Dist* d = env->find(dist);
      note = "In " + env->python + ": " + (d ? d->name + " " + d->version + " is installed" : dist + " is not installed");
      if (!importer.empty() && dist_name(importer) != dist) {
        const PythonEnv::Dist* imp = env->find(importer);
        note += imp ? "; " + imp->name + " " + imp->version + " is installed" : "; " + importer + " is not installed";
      }
      auto reqs = env->required_by(dist);
      std::string pinned_by;
      for (const auto& [who, req] : reqs) {
        note += "; " + who + " requires " + req;
        if (pin.empty() && req.find("==") != std::string::npos) {
          pin = req.substr(0, req.find(','));
          pinned_by = who;
        }
      }
      if (!importer.empty() && dist_name(importer) != dist)
        for (const auto& [who, req] : env->required_by(importer)) note += "; " + who + " requires " + req;
      if (!pin.empty()) {
        std::string spec;
        for (char c : pin)
          if (c != ' ') spec += c;
        pin = "pip install '" + spec + "' (the version " + pinned_by + " pins)";
      }
    }
    v["env_note"] = note;
    v["env_pin"] = pin;
  }
  v["so_code"] = "";
  if (st && !first_nonempty(v, "so_path").empty()) {
    const std::string& path = v["so_path"];
    const std::string key = path + '\x1f' + std::to_string(ctx.gpu_cc);  // the verdict depends on the GPU known so far
    auto it = st->so_code.find(key);
    if (it == st->so_code.end() && st->so_code.size() < 16) it = st->so_code.emplace(key, describe_library(path, ctx.gpu_cc)).first;
    if (it != st->so_code.end()) v["so_code"] = it->second;
  }
  r.f.severity = first_nonempty(v, "severity").empty() ? sig->severity : v["severity"];
  r.f.title = expand(sig->title, v);
  r.f.cause = expand(sig->cause, v);
  if (!v["so_code"].empty() && r.f.severity == "error") r.f.cause += " " + v["so_code"];
  r.f.fix = expand(sig->fix, v);
}

}  // namespace

namespace {
// A finding that another, more telling one contradicts (the generic SGLang
// advice where Triton's ptxas or torch itself is what failed).
bool hidden(const SignatureSet::Signature& sig, const ExplainStream::State& st) {
  return std::any_of(sig.hidden_by.begin(), sig.hidden_by.end(), [&](const std::string& id) { return st.matched_ids.count(id) > 0; });
}
}  // namespace

void ExplainStream::process_front(bool partial_window) {
  State& st = *st_;
  if (st.window.empty()) return;
  (void)partial_window;
  const PendingLine& first = st.window.front();
  const size_t i = first.number;
  // Every context rule looks for at least 3 characters: shorter lines teach nothing.
  if (first.low.size() >= 3) {
    learn_context(first.text, first.low, i, ctx_);
    learn_position(st, first);
  }

  // The window: this line and the ones after it that have arrived. Needles
  // hold no line break, so a window without a line holding one cannot match:
  // most lines of a log end here, before any window is built.
  const size_t avail = std::min(st.window.size(), sigs_.max_lines_);
  bool any_needle = false;
  for (size_t k = 0; k < avail && !any_needle; ++k) any_needle = st.window[k].has_needle;
  if (!any_needle) {
    st.window.pop_front();
    return;
  }
  std::string win_low, win_text;
  std::array<size_t, 11> low_end{}, text_end{};  // "lines" is at most 10
  for (size_t k = 0; k < avail; ++k) {
    if (k) {
      win_low += '\n';
      win_text += '\n';
    }
    win_low += st.window[k].low;
    win_text.append(st.window[k].text, 0, kMaxMatchChars);
    low_end[k + 1] = win_low.size();
    text_end[k + 1] = win_text.size();
  }

  struct Hit {
    const SignatureSet::Signature* sig;
    std::map<std::string, std::string> values;
    std::string text;
  };
  std::vector<Hit> here;
  // A window shorter than every needle cannot match (the common case of `yes`-like input).
  // Needles hold no line break, so one must fit in a single line of the window.
  size_t longest = 0;
  for (size_t k = 0; k < avail; ++k) longest = std::max(longest, st.window[k].low.size());
  const bool too_short = longest < sigs_.min_needle_;
  for (const auto& sig : sigs_.signatures_) {
    if (too_short) break;
    const size_t n = std::min(avail, sig->lines);
    std::string_view low(win_low.data(), low_end[n]);
    if (std::none_of(sig->needles.begin(), sig->needles.end(), [&](const std::string& nd) { return contains(low, nd); }))
      continue;
    std::string window = win_text.substr(0, text_end[n]);
    std::smatch m;
    try {
      if (!std::regex_search(window, m, sig->re)) continue;
      if (sig->has_unless && std::regex_search(window.substr(0, first.text.size() < kMaxMatchChars ? first.text.size() : kMaxMatchChars), sig->unless))
        continue;
    } catch (const std::regex_error&) {
      continue;  // too complex for this input: skip rather than fail the whole log
    }
    // A window match belongs to the line it starts on; the next window finds the rest.
    if (static_cast<size_t>(m.position(0)) > std::min(first.text.size(), kMaxMatchChars)) continue;
    Hit hit{sig.get(), {}, {}};
    for (size_t g = 0; g < sig->captures.size(); ++g)
      hit.values[sig->captures[g]] = m[g + 1].matched ? m[g + 1].str() : "";
    if (!sig->json_fields.empty()) {
      size_t brace = first.text.find('{');
      if (brace == std::string::npos || nests_deeper_than(std::string_view(first.text).substr(brace), kMaxRecordDepth)) continue;
      json rec = json::parse(first.text.substr(brace), nullptr, false);
      if (!rec.is_object()) continue;  // looked like a record but is not one
      for (const auto& f : sig->json_fields) hit.values[f] = rec.contains(f) ? json_value_text(rec[f]) : "";
    }
    if (!sig->package.empty() && hit.values["package"].empty()) hit.values["package"] = sig->package;
    if (!sig->demangle.empty()) hit.values["demangled"] = smwatch::demangle(hit.values[sig->demangle]);
    if (!sig->target.empty() && !hit.values[sig->target].empty()) add_target_values(hit.values[sig->target], hit.values);
    locate(st, m.str(0), i, hit.values);
    size_t end_line = static_cast<size_t>(std::count(window.begin(), window.begin() + m.position(0) + m.length(0), '\n'));
    for (size_t k = 0; k <= end_line && k < avail; ++k) {
      const std::string& t = st.window[k].text;
      hit.text += (k == 0 ? "" : "\n") + (t.size() > kMaxTextChars ? t.substr(0, kMaxTextChars) + "..." : t);
    }
    here.push_back(std::move(hit));
  }
  st.window.pop_front();

  // A more specific signature on the same line hides the general one.
  for (const auto& h : here) st.matched_ids.insert(h.sig->id);
  for (auto& h : here) {
    bool hidden = std::any_of(here.begin(), here.end(), [&](const Hit& other) {
      return std::find(other.sig->supersedes.begin(), other.sig->supersedes.end(), h.sig->id) != other.sig->supersedes.end();
    });
    if (hidden) continue;
    std::string key = h.sig->id;
    if (!h.sig->dedupe_set) {
      for (const auto& name : h.sig->captures) key += '\x1f' + h.values[name];
      for (const auto& name : h.sig->json_fields) key += '\x1f' + h.values[name];
    } else {
      for (const auto& name : h.sig->dedupe) key += '\x1f' + h.values[name];
    }
    if (auto it = st.by_key.find(key); it != st.by_key.end()) {
      Finding& f = st.records[it->second].f;
      ++f.count;
      if (f.more_lines.size() < kMaxLinesKept) f.more_lines.push_back(i + 1);
      continue;
    }
    if (st.records.size() >= kMaxFindings) {
      ++dropped_;
      continue;
    }
    st.by_key[key] = st.records.size();
    Record r{h.sig, {}, false};
    r.f.id = h.sig->id;
    r.f.severity = h.sig->severity;
    r.f.line = i + 1;
    r.f.text = std::move(h.text);
    r.f.values = std::move(h.values);
    if (r.f.values["failing_package"].empty()) st.unlocated = true;
    st.records.push_back(std::move(r));
  }
  // Release what can be told now: a context finding once a failure it explains was seen.
  if (here.empty()) return;
  for (auto& r : st.records) {
    if (r.released) continue;
    const auto& req = r.sig->requires_ids;
    if (!req.empty() && std::none_of(req.begin(), req.end(), [&](const std::string& id) { return st.matched_ids.count(id) > 0; }))
      continue;
    if (hidden(*r.sig, st)) continue;
    r.released = true;
    render(r, ctx_, env_, sigs_.knowledge(), read_libraries_ ? &st : nullptr);
    if (on_finding_) on_finding_(r.f);
  }
}

void ExplainStream::finish() {
  if (!partial_.empty()) {
    push_line(partial_);
    partial_.clear();
    partial_cut_ = false;
  }
  idle();
  final_.clear();
  for (auto& r : st_->records) {
    if (!r.released) continue;
    if (hidden(*r.sig, *st_)) continue;
    render(r, ctx_, env_, sigs_.knowledge(), read_libraries_ ? st_.get() : nullptr);
    final_.push_back(r.f);
  }
  std::stable_sort(final_.begin(), final_.end(), [](const Finding& a, const Finding& b) { return a.line < b.line; });
}

std::vector<Finding> SignatureSet::explain(std::string_view log, const PythonEnv* env) const {
  ExplainStream stream(*this, {}, env);
  stream.feed(log);
  stream.finish();
  return stream.findings();
}

std::vector<Finding> explain_text(std::string_view log) { return SignatureSet::builtin().explain(log); }

nlohmann::json findings_to_json(const std::vector<Finding>& findings, const std::string& source) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& f : findings) {
    list.push_back({{"id", f.id},       {"severity", f.severity}, {"title", f.title},   {"cause", f.cause},
                    {"fix", f.fix},     {"line", f.line},         {"more_lines", f.more_lines},
                    {"count", f.count}, {"text", f.text},         {"values", f.values}});
  }
  return {{"schema", kExplainSchema}, {"tool", {{"name", "smwatch"}, {"version", kVersion}}}, {"source", source},
          {"findings", std::move(list)}};
}

}  // namespace smwatch::cli
