// The report record contract (smwatch/record.h): what the shim writes is what
// readers get back, and a damaged or foreign line is an error that says why.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "smwatch/record.h"

namespace smwatch::record {
namespace {

template <class T>
T round_trip(const T& in, Strictness strictness = Strictness::kStrict) {
  Decoded d = decode(encode(in), strictness);
  EXPECT_TRUE(d.record) << d.error;
  EXPECT_EQ(d.code, DecodeError::kNone);
  EXPECT_EQ(d.type, type_name(in));
  const T* out = d.record ? std::get_if<T>(&*d.record) : nullptr;
  EXPECT_NE(out, nullptr) << "decoded as another type";
  return out ? *out : T{};
}

TEST(Record, EveryTypeRoundTrips) {
  Process p;
  p.pid = 42, p.time = 1.5, p.ppid = 1, p.exe = "/usr/bin/python3", p.cmdline = "python3 serve.py", p.smwatch = "0.1";
  p.targets = {"sm_120", "sm_100"};
  Process p2 = round_trip(p);
  EXPECT_EQ(p2.pid, 42);
  EXPECT_EQ(p2.time, 1.5);
  EXPECT_EQ(p2.format, kFormatVersion);
  EXPECT_EQ(p2.cmdline, p.cmdline);
  EXPECT_EQ(p2.targets, p.targets);

  Gpu g;
  g.ordinal = 3, g.name = "NVIDIA H200", g.cc = "9.0", g.arch = "sm_90", g.driver = 13000;
  Gpu g2 = round_trip(g);
  EXPECT_EQ(g2.ordinal, 3);
  EXPECT_EQ(g2.name, g.name);
  EXPECT_EQ(g2.driver, 13000);

  Module m;
  m.call = "cuLibraryLoadData", m.handle = "0x1", m.library = true, m.source = "/lib/libx.so", m.caller = "/lib/liby.so";
  m.archs = "sm_80 sm_90", m.origin = kOriginFile, m.verdicts = {{"sm_90", "OK"}, {"sm_120", "FAIL"}};
  m.result = 209, m.result_name = "CUDA_ERROR_NO_BINARY_FOR_GPU", m.problems = {"a", "b"};
  Module m2 = round_trip(m);
  EXPECT_TRUE(m2.library);
  EXPECT_EQ(m2.verdicts, m.verdicts);
  EXPECT_EQ(m2.result, 209);
  EXPECT_EQ(m2.problems, m.problems);
  EXPECT_EQ(m2.origin, kOriginFile);

  Failure f;
  f.call = "cuLaunchKernel", f.error = 209, f.error_name = "E", f.kernel = "k(int)", f.mangled = "_Z1ki", f.fix = "x";
  Failure f2 = round_trip(f);
  EXPECT_EQ(f2.error, 209);
  EXPECT_EQ(f2.mangled, f.mangled);
  EXPECT_EQ(f2.fix, "x");

  Missing miss;
  miss.target = "sm_120", miss.kernel = "k", miss.source = "/lib/libx.so";
  EXPECT_EQ(encode(miss).find("origin"), std::string::npos) << "the shim never writes a reader's judgement";
  miss.origin = "chosen at run time by its library";
  EXPECT_EQ(round_trip(miss).origin, miss.origin);

  RuntimeKernel rk;
  rk.kernel = "k", rk.caller = "/lib/libcublasLt.so.13";
  EXPECT_EQ(round_trip(rk).caller, rk.caller);

  Exit e;
  e.launches = uint64_t{1} << 40, e.dropped_records = 7, e.missing = {{"sm_120", 3}};
  Exit e2 = round_trip(e);
  EXPECT_EQ(e2.launches, uint64_t{1} << 40);
  EXPECT_EQ(e2.dropped_records, 7u);
  EXPECT_EQ(e2.missing, e.missing);
}

TEST(Record, TextThatIsNotUtf8IsReplacedNotLost) {
  Failure f;
  f.source = std::string("/lib/bad\xff.so");
  Failure f2 = round_trip(f);
  EXPECT_EQ(f2.source, "/lib/bad\xEF\xBF\xBD.so");  // U+FFFD
}

TEST(Record, OlderShimsRecordsRead) {
  // Format 1 without the "format" field, argv as an array, fields missing, null.
  Decoded d = decode(R"({"type":"process","pid":7,"time":1,"cmdline":["python3","-m","x"],"exe":null})");
  ASSERT_TRUE(d.record) << d.error;
  const auto& p = std::get<Process>(*d.record);
  EXPECT_EQ(p.format, 1);
  EXPECT_EQ(p.cmdline, "python3 -m x");
  EXPECT_EQ(p.exe, "");
  EXPECT_EQ(p.ppid, 0);
}

TEST(Record, DamageIsAnErrorThatSaysWhy) {
  struct Case {
    const char* line;
    DecodeError code;
    const char* says;
  } cases[] = {
      {"this is not json", DecodeError::kNotJson, "not a JSON record"},
      {R"({"type":"module","pid":1,"ti)", DecodeError::kNotJson, "not a JSON record"},
      {"[1,2]", DecodeError::kNotObject, "not a JSON object"},
      {R"({"pid":1})", DecodeError::kNoType, "without \"type\""},
      {R"({"type":7})", DecodeError::kNoType, "not a string"},
      {R"({"type":"module","pid":"12"})", DecodeError::kBadField, "field \"pid\" is string, not an integer"},
      {R"({"type":"module","result":1.5})", DecodeError::kBadField, "field \"result\""},
      {R"({"type":"exit","launches":-1})", DecodeError::kBadField, "not a non-negative integer"},
      {R"({"type":"gpu","driver":99999999999})", DecodeError::kBadField, "field \"driver\""},
      {R"({"type":"module","verdicts":{"sm_90":1}})", DecodeError::kBadField, "an object of strings"},
      {R"({"type":"process","targets":["sm_90",5]})", DecodeError::kBadField, "an array of strings"},
      {R"({"type":"module","library":"yes"})", DecodeError::kBadField, "a boolean"},
      {R"({"type":"from_the_future","pid":1})", DecodeError::kUnknownType, "unknown record type"},
  };
  for (const auto& c : cases) {
    Decoded d = decode(c.line);
    EXPECT_FALSE(d.record) << c.line;
    EXPECT_EQ(d.code, c.code) << c.line;
    EXPECT_NE(d.error.find(c.says), std::string::npos) << c.line << " -> " << d.error;
  }
}

TEST(Record, UnknownFieldsAreIgnoredUnlessStrict) {
  const char* line = R"({"type":"gpu","pid":1,"time":2,"name":"X","added_later":true})";
  Decoded tolerant = decode(line);
  ASSERT_TRUE(tolerant.record) << tolerant.error;
  EXPECT_EQ(std::get<Gpu>(*tolerant.record).name, "X");
  Decoded strict = decode(line, Strictness::kStrict);
  EXPECT_FALSE(strict.record);
  EXPECT_EQ(strict.code, DecodeError::kBadField);
  EXPECT_NE(strict.error.find("\"added_later\" is not part of the gpu record"), std::string::npos) << strict.error;
}

TEST(Record, ToJsonCarriesTheType) {
  Exit e;
  e.failures = 2;
  nlohmann::json j = to_json(e);
  EXPECT_EQ(j["type"], "exit");
  EXPECT_EQ(j["failures"], 2);
  EXPECT_EQ(j.dump(-1), encode(e));
}

}  // namespace
}  // namespace smwatch::record
