#include "smwatch/record.h"

#include <nlohmann/json.hpp>

#include <iterator>
#include <limits>
#include <set>
#include <type_traits>

namespace smwatch::record {

using nlohmann::json;

namespace {

// Each record's fields, listed once: encode and decode both walk this list,
// so the writer and the readers cannot disagree on a name or a type.
enum class Join { kNo, kArrayOfStrings };  // cmdline: older records hold argv as an array

template <class V>
void fields(V& v, Common& r) {
  v("pid", r.pid);
  v("time", r.time);
}
template <class V>
void fields(V& v, Process& r) {
  fields(v, static_cast<Common&>(r));
  v("format", r.format);
  v("ppid", r.ppid);
  v("exe", r.exe);
  v("cmdline", r.cmdline, Join::kArrayOfStrings);
  v("smwatch", r.smwatch);
  v("targets", r.targets);
}
template <class V>
void fields(V& v, Gpu& r) {
  fields(v, static_cast<Common&>(r));
  v("ordinal", r.ordinal);
  v("name", r.name);
  v("cc", r.cc);
  v("arch", r.arch);
  v("driver", r.driver);
}
template <class V>
void fields(V& v, Module& r) {
  fields(v, static_cast<Common&>(r));
  v("call", r.call);
  v("handle", r.handle);
  v("library", r.library);
  v("source", r.source);
  v("caller", r.caller);
  v("archs", r.archs);
  v("origin", r.origin);
  v("verdicts", r.verdicts);
  v("result", r.result);
  v("result_name", r.result_name);
  v("problems", r.problems);
}
template <class V>
void fields(V& v, Failure& r) {
  fields(v, static_cast<Common&>(r));
  v("call", r.call);
  v("error", r.error);
  v("error_name", r.error_name);
  v("kernel", r.kernel);
  v("mangled", r.mangled);
  v("source", r.source);
  v("archs", r.archs);
  v("gpu_arch", r.gpu_arch);
  v("caller", r.caller);
  v("fix", r.fix);
  if (r.built_for_other_gpus || !V::kWriting) v("built_for_other_gpus", r.built_for_other_gpus);
}
template <class V>
void fields(V& v, Missing& r) {
  fields(v, static_cast<Common&>(r));
  v("target", r.target);
  v("kernel", r.kernel);
  v("mangled", r.mangled);
  v("source", r.source);
  v("archs", r.archs);
  if (!r.origin.empty() || !V::kWriting) v("origin", r.origin);
}
template <class V>
void fields(V& v, RuntimeKernel& r) {
  fields(v, static_cast<Common&>(r));
  v("kernel", r.kernel);
  v("mangled", r.mangled);
  v("source", r.source);
  v("caller", r.caller);
  v("archs", r.archs);
}
template <class V>
void fields(V& v, Library& r) {
  fields(v, static_cast<Common&>(r));
  v("path", r.path);
  v("archs", r.archs);
  v("fatbins", r.fatbins);
  v("verdicts", r.verdicts);
  v("problems", r.problems);
}
template <class V>
void fields(V& v, Exit& r) {
  fields(v, static_cast<Common&>(r));
  v("launches", r.launches);
  v("modules", r.modules);
  v("kernels_used", r.kernels_used);
  v("failures", r.failures);
  v("runtime_kernels", r.runtime_kernels);
  if (r.handled_lookups || !V::kWriting) v("handled_lookups", r.handled_lookups);
  v("repeated_failures", r.repeated_failures);
  v("unreported_failures", r.unreported_failures);
  v("missing", r.missing);
  v("dropped_records", r.dropped_records);
}

// The "type" of each alternative, in the variant's order.
constexpr const char* kTypeNames[] = {"process", "gpu", "module", "failure", "missing", "runtime_kernel", "library", "exit"};
static_assert(std::size(kTypeNames) == std::variant_size_v<Record>);

struct Writer {
  static constexpr bool kWriting = true;
  json& out;
  template <class T>
  void operator()(const char* key, const T& value, Join = Join::kNo) {
    out[key] = value;
  }
};

struct Reader {
  static constexpr bool kWriting = false;
  const json& in;
  std::set<std::string_view>* known;  // strict mode: the keys the record may have
  std::string error;

  template <class T>
  void operator()(const char* key, T& value, Join join = Join::kNo) {
    if (known) known->insert(key);
    if (!error.empty()) return;
    auto it = in.find(key);
    if (it == in.end() || it->is_null()) return;  // absent: an older shim; keep the default
    if (!read(*it, value, join)) error = std::string("field \"") + key + "\" is " + it->type_name() + ", not " + expected(value);
  }

  static bool read(const json& j, std::string& out, Join join) {
    if (j.is_string()) {
      out = j.get<std::string>();
      return true;
    }
    if (join != Join::kArrayOfStrings || !j.is_array()) return false;
    out.clear();
    for (const auto& item : j) {
      if (!item.is_string()) return false;
      if (!out.empty()) out += ' ';
      out += item.get_ref<const std::string&>();
    }
    return true;
  }
  static bool read(const json& j, bool& out, Join) {
    if (!j.is_boolean()) return false;
    out = j.get<bool>();
    return true;
  }
  static bool read(const json& j, double& out, Join) {
    if (!j.is_number()) return false;
    out = j.get<double>();
    return true;
  }
  template <class Int>
  static bool read_int(const json& j, Int& out) {
    if (j.is_number_unsigned()) {
      auto v = j.get<uint64_t>();
      if (v > static_cast<uint64_t>(std::numeric_limits<Int>::max())) return false;
      out = static_cast<Int>(v);
      return true;
    }
    if (!j.is_number_integer()) return false;
    auto v = j.get<int64_t>();
    if (v < static_cast<int64_t>(std::numeric_limits<Int>::min()) ||
        (v > 0 && static_cast<uint64_t>(v) > static_cast<uint64_t>(std::numeric_limits<Int>::max())))
      return false;
    out = static_cast<Int>(v);
    return true;
  }
  static bool read(const json& j, int& out, Join) { return read_int(j, out); }
  static bool read(const json& j, int64_t& out, Join) { return read_int(j, out); }
  static bool read(const json& j, uint64_t& out, Join) { return read_int(j, out); }
  static bool read(const json& j, std::vector<std::string>& out, Join) {
    if (!j.is_array()) return false;
    out.clear();
    for (const auto& item : j) {
      if (!item.is_string()) return false;
      out.push_back(item.get<std::string>());
    }
    return true;
  }
  template <class Value>
  static bool read(const json& j, std::map<std::string, Value>& out, Join) {
    if (!j.is_object()) return false;
    out.clear();
    for (const auto& [key, item] : j.items()) {
      Value v{};
      if (!read(item, v, Join::kNo)) return false;
      out.emplace(key, std::move(v));
    }
    return true;
  }

  static const char* expected(const std::string&) { return "a string"; }
  static const char* expected(bool) { return "a boolean"; }
  static const char* expected(double) { return "a number"; }
  static const char* expected(int) { return "an integer"; }
  static const char* expected(int64_t) { return "an integer"; }
  static const char* expected(uint64_t) { return "a non-negative integer"; }
  static const char* expected(const std::vector<std::string>&) { return "an array of strings"; }
  static const char* expected(const std::map<std::string, std::string>&) { return "an object of strings"; }
  static const char* expected(const std::map<std::string, uint64_t>&) { return "an object of counts"; }
};

}  // namespace

std::string_view type_name(const Record& record) { return kTypeNames[record.index()]; }

json to_json(const Record& record) {
  json out = json::object();
  out["type"] = type_name(record);
  std::visit(
      [&](const auto& r) {
        Writer w{out};
        // fields() takes the record by non-const reference for the reader's
        // sake; the writer only reads it.
        fields(w, const_cast<std::remove_const_t<std::remove_reference_t<decltype(r)>>&>(r));
      },
      record);
  return out;
}

std::string encode(const Record& record) { return to_json(record).dump(-1, ' ', false, json::error_handler_t::replace); }

namespace {

template <size_t I = 0>
std::optional<Record> make_record(std::string_view type) {
  if constexpr (I == std::variant_size_v<Record>) {
    return std::nullopt;
  } else {
    if (type == kTypeNames[I]) return Record(std::in_place_index<I>);
    return make_record<I + 1>(type);
  }
}

}  // namespace

Decoded decode(std::string_view line, Strictness strictness) {
  Decoded out;
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded()) {
    out.code = DecodeError::kNotJson;
    out.error = "not a JSON record";
    return out;
  }
  if (!j.is_object()) {
    out.code = DecodeError::kNotObject;
    out.error = "not a JSON object";
    return out;
  }
  auto type = j.find("type");
  if (type == j.end() || !type->is_string()) {
    out.code = DecodeError::kNoType;
    out.error = type == j.end() ? "record without \"type\"" : "\"type\" is not a string";
    return out;
  }
  out.type = type->get<std::string>();
  std::optional<Record> record = make_record(out.type);
  if (!record) {
    out.code = DecodeError::kUnknownType;
    out.error = "unknown record type \"" + out.type + "\"";
    return out;
  }
  std::set<std::string_view> known{"type"};
  Reader reader{j, strictness == Strictness::kStrict ? &known : nullptr, {}};
  std::visit([&](auto& r) { fields(reader, r); }, *record);
  if (reader.error.empty() && strictness == Strictness::kStrict)
    for (const auto& [key, value] : j.items())
      if (!known.count(key)) {
        reader.error = "field \"" + key + "\" is not part of the " + out.type + " record";
        break;
      }
  if (!reader.error.empty()) {
    out.code = DecodeError::kBadField;
    out.error = out.type + " record: " + reader.error;
    return out;
  }
  out.record = std::move(record);
  return out;
}

}  // namespace smwatch::record
