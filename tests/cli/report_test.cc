// Reading and merging the shim's JSONL reports, and `smwatch report`.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "report/render.h"
#include "report/what_if.h"
#include "smwatch/arch.h"
#include "smwatch/package_fix.h"
#include "support.h"

namespace smwatch::cli {
namespace {

const char* kWorker = R"j({"type":"process","pid":101,"time":10.5,"ppid":100,"exe":"/usr/bin/python3","cmdline":["python3","-m","sglang.launch_server"],"smwatch":"0.1.0","targets":["sm_120"]}
{"type":"gpu","pid":101,"time":11,"ordinal":0,"name":"NVIDIA H100 80GB HBM3","cc":"9.0","arch":"sm_90","driver":13000}
{"type":"module","pid":101,"time":11.1,"call":"cuLibraryLoadData","handle":"0x1","source":"/venv/torch/lib/libtorch_cuda.so","archs":"sm_80 sm_90","verdicts":{"sm_90":"OK","sm_120":"FAIL"},"result":0,"result_name":"CUDA_SUCCESS"}
{"type":"module","pid":101,"time":11.2,"call":"cuLibraryLoadData","handle":"0x2","source":"/venv/torch/lib/libtorch_cuda.so","archs":"sm_80 sm_90","verdicts":{"sm_90":"OK","sm_120":"FAIL"},"result":0,"result_name":"CUDA_SUCCESS"}
{"type":"failure","pid":101,"time":12,"call":"cuLibraryGetKernel","error":209,"error_name":"CUDA_ERROR_NO_BINARY_FOR_GPU","kernel":"","mangled":"_Z12scale_by_twoPfi","source":"/opt/lib/libscale<v2>.so","archs":"sm_80","gpu_arch":"sm_90","fix":""}
{"type":"missing","pid":101,"time":12.5,"target":"sm_120","kernel":"flash_fwd","mangled":"flash_fwd","source":"/venv/flash_attn_2_cuda.so","archs":"sm_80 sm_90"}
{"type":"exit","pid":101,"time":13,"launches":5,"modules":2,"failures":1})j";

const char* kCrashed = R"j({"type":"process","pid":102,"time":10.7,"ppid":100,"exe":"/usr/bin/python3","cmdline":"python3 worker.py","smwatch":"0.1.0","targets":[]}
this is not json
{"type":"failure","pid":102,"time":12,"call":"cuLaunchKernel","error":209,"error_name":"CUDA_ERROR_NO_BINARY_FOR_GPU","kernel":"scale_by_two(float*, int)","mangled":"_Z12scale_by_twoPfi","source":"/opt/lib/libscale<v2>.so","archs":"sm_80","gpu_arch":"sm_90","fix":"custom fix"}
{"pid":102}
{"type":"module","pid":102,"time":12.1,"call":"cuLibr)j";

MergedReport two_processes() {
  MergedReport r;
  add_report_text(r, kCrashed, "b.jsonl");  // added first, starts later
  add_report_text(r, kWorker, "a.jsonl");
  std::stable_sort(r.processes.begin(), r.processes.end(),
                   [](const ProcessReport& x, const ProcessReport& y) { return x.start < y.start; });
  return r;
}

TEST(Reports, ParsesRecordsAndToleratesDamage) {
  MergedReport r = two_processes();
  ASSERT_EQ(r.processes.size(), 2u);
  EXPECT_EQ(r.files, 2u);
  const ProcessReport& w = r.processes[0];
  EXPECT_EQ(w.pid, 101);
  EXPECT_EQ(w.ppid, 100);
  EXPECT_EQ(w.cmdline, "python3 -m sglang.launch_server");  // array form
  EXPECT_EQ(w.targets, std::vector<std::string>{"sm_120"});
  ASSERT_EQ(w.modules.size(), 1u);  // two loads of one library, folded
  EXPECT_EQ(w.modules[0].loads, 2u);
  EXPECT_EQ(w.module_loads, 2u);
  EXPECT_EQ(w.failure_records, 1u);
  EXPECT_EQ(w.missing.size(), 1u);
  EXPECT_TRUE(w.exit.has_value());
  const ProcessReport& c = r.processes[1];
  EXPECT_EQ(c.cmdline, "python3 worker.py");  // string form
  EXPECT_FALSE(c.exit.has_value());
  EXPECT_EQ(r.garbage_lines, 2u);    // "this is not json" and the record without a type
  EXPECT_EQ(r.truncated_lines, 1u);  // the cut-off last line
  ASSERT_EQ(r.problems.size(), 3u);
  EXPECT_EQ(r.problems[0].file, "b.jsonl");
  EXPECT_EQ(r.problems[0].line, 2u);
  EXPECT_EQ(r.problems[2].line, 5u);
  EXPECT_NE(r.problems[2].reason.find("cut off"), std::string::npos);
  EXPECT_EQ(r.failure_count(), 2u);
  EXPECT_EQ(r.exit_code(), 1);
  MergedReport empty;
  EXPECT_EQ(empty.exit_code(), 2);
}

TEST(Reports, TextSummaryAttributesFailures) {
  std::ostringstream out;
  render_report(out, two_processes(), Format::kText);
  const std::string s = out.str();
  EXPECT_NE(s.find("2 processes, 2 modules loaded, 2 failures, what-if sm_120: 1 kernel without code"), std::string::npos) << s;
  EXPECT_NE(s.find("GPU: NVIDIA H100 80GB HBM3 (sm_90, CC 9.0), driver supports CUDA 13.0"), std::string::npos) << s;
  EXPECT_NE(s.find("/venv/torch/lib/libtorch_cuda.so x2  sm_80 sm_90  [sm_120 FAIL, sm_90 OK]"), std::string::npos) << s;
  EXPECT_NE(s.find("kernel:  scale_by_two(float*, int)"), std::string::npos) << "demangled from the record's mangled name";
  EXPECT_NE(s.find("library: /opt/lib/libscale<v2>.so"), std::string::npos);
  EXPECT_NE(s.find("fix:     " + fix_hint(90)), std::string::npos) << "an empty fix falls back to the GPU table";
  EXPECT_NE(s.find("fix:     custom fix"), std::string::npos) << "the shim's fix wins";
  EXPECT_NE(s.find("What-if sm_120: 1 kernel would fail"), std::string::npos);
  EXPECT_NE(s.find("flash_fwd in /venv/flash_attn_2_cuda.so (holds sm_80 sm_90)"), std::string::npos);
  EXPECT_NE(s.find("no exit record"), std::string::npos);
  EXPECT_NE(s.find("b.jsonl:2: not a JSON record; ignored"), std::string::npos);
}

TEST(Reports, MarkdownHtmlAndJson) {
  MergedReport r = two_processes();
  std::ostringstream md, html;
  render_report(md, r, Format::kMarkdown);
  EXPECT_NE(md.str().find("# smwatch report"), std::string::npos);
  EXPECT_NE(md.str().find("| 1 | cuLibraryGetKernel | CUDA_ERROR_NO_BINARY_FOR_GPU (209) | `scale_by_two(float*, int)`"),
            std::string::npos) << md.str();
  render_report(html, r, Format::kHtml);
  const std::string h = html.str();
  EXPECT_EQ(h.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(h.find("/opt/lib/libscale&lt;v2&gt;.so"), std::string::npos) << "escaped";
  EXPECT_EQ(h.find("libscale<v2>"), std::string::npos);
  EXPECT_EQ(h.find("<script"), std::string::npos) << "self-contained and inert";
  for (const char* external : {"src=", "href=", "<link", "@import"})
    EXPECT_EQ(h.find(external), std::string::npos) << "no external resources: " << external;
  std::ostringstream json_text;
  render_report(json_text, r, Format::kJson);
  nlohmann::json doc = nlohmann::json::parse(json_text.str());
  EXPECT_EQ(doc["schema"], "smwatch.report/2");
  EXPECT_EQ(doc["summary"]["processes"], 2);
  EXPECT_EQ(doc["summary"]["crashed"], 1);
  EXPECT_EQ(doc["summary"]["garbage_lines"], 2);
  EXPECT_EQ(doc["failures"].size(), 2u);
  EXPECT_EQ(doc["what_if"]["sm_120"]["kernels"].size(), 1u);
  EXPECT_EQ(doc["what_if"]["sm_120"]["fix"], fix_hint(120));
  EXPECT_EQ(doc["exit_code"], 1);
}

TEST(ReportCommand, DirectoriesFormatsAndExitCodes) {
  std::string dir = test::scratch("reports");
  std::filesystem::create_directories(dir + "/node2");
  test::spit(dir + "/smwatch-101-1.jsonl", kWorker);
  test::spit(dir + "/node2/smwatch-102-1.jsonl", kCrashed);
  test::spit(dir + "/notes.txt", "ignored: not a .jsonl file");
  auto r = test::run({"report", dir});
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.out.find("2 processes"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find(dir + "/node2/smwatch-102-1.jsonl:2: not a JSON record"), std::string::npos) << r.err;
  auto html = test::run({"report", "--html", "-o", dir + "/out.html", dir});
  EXPECT_EQ(html.status, 1);
  EXPECT_NE(test::slurp(dir + "/out.html").find("</html>"), std::string::npos);
  auto json = test::run({"report", "--json", dir + "/smwatch-101-1.jsonl"});
  EXPECT_EQ(nlohmann::json::parse(json.out)["summary"]["processes"], 1);
  test::spit(dir + "/ok.jsonl", R"j({"type":"process","pid":5,"time":1,"ppid":1,"exe":"/bin/true","cmdline":["true"]})j" "\n"
                                R"j({"type":"exit","pid":5,"time":2,"launches":0,"modules":0,"failures":0})j" "\n");
  EXPECT_EQ(test::run({"report", dir + "/ok.jsonl"}).status, 0);
  auto nothing = test::run({"report", "/nonexistent/dir"});
  EXPECT_EQ(nothing.status, 2);
  EXPECT_NE(nothing.err.find("/nonexistent/dir: no such file or directory"), std::string::npos) << nothing.err;
  EXPECT_EQ(test::run({"report", "--json", "--html", dir}).status, 2) << "formats exclude each other";
}

// Reading folds what repeats: memory grows with what is distinct, not with
// the records.
TEST(Reports, RepeatsAreFoldedWithTheirCounts) {
  std::string text = R"({"type":"process","pid":3,"time":1,"targets":["sm_120"]})" "\n";
  for (int i = 0; i < 3000; ++i) {
    text += R"({"type":"module","pid":3,"time":2,"call":"cuModuleLoadData","source":"/lib/lib)" + std::to_string(i % 3) +
            R"(.so","archs":"sm_90","verdicts":{"sm_90":"OK"},"result":)" + (i % 1000 == 0 ? "209" : "0") + "}\n";
    text += R"({"type":"failure","pid":3,"time":2,"call":"cuModuleGetFunction","error":500,"error_name":"CUDA_ERROR_NOT_FOUND","mangled":"k)" +
            std::to_string(i % 2) + R"(","source":"/lib/lib0.so"})" "\n";
    text += R"({"type":"runtime_kernel","pid":3,"time":2,"mangled":"r","caller":"/no/lib.so"})" "\n";
    text += R"({"type":"missing","pid":3,"time":2,"target":"sm_120","mangled":"m","source":"/no/lib.so"})" "\n";
  }
  MergedReport r;
  add_report_text(r, text, "r.jsonl");
  finish_report(r);
  ASSERT_EQ(r.processes.size(), 1u);
  const ProcessReport& p = r.processes[0];
  EXPECT_EQ(p.records, 1u + 4 * 3000);
  EXPECT_EQ(p.module_loads, 3000u);
  ASSERT_EQ(p.modules.size(), 3u);
  EXPECT_EQ(p.modules[0].source, "/lib/lib0.so");
  EXPECT_EQ(p.modules[0].loads, 1000u);
  EXPECT_EQ(p.modules[0].failed, 1u);  // i = 0 (i = 1000, 2000 load lib1, lib2)
  EXPECT_EQ(p.modules[1].failed, 1u);
  EXPECT_EQ(p.failure_records, 3000u);
  ASSERT_EQ(p.failures.size(), 2u);
  EXPECT_EQ(p.failures[0].count + p.failures[1].count, 3000u);
  EXPECT_EQ(p.runtime_kernels.size(), 1u);
  EXPECT_EQ(p.unjudged.size(), 2u);  // the missing and the run-time kernel of /no/lib.so: neither a record of it nor the file
  EXPECT_EQ(r.failure_count(), 3000u);
  EXPECT_EQ(r.module_count(), 3000u);
  std::ostringstream out;
  render_report(out, r, Format::kText);
  EXPECT_NE(out.str().find("/lib/lib0.so x1000  sm_90  [sm_90 OK]  (1 failed to load)"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("CUDA_ERROR_NOT_FOUND (500), 1500 times"), std::string::npos) << out.str();
}

// Lines are read a piece at a time: a record across the reader's 64 KiB
// buffer is whole, a line past kMaxRecordBytes is skipped without being
// held, and the records after it are read.
TEST(Reports, LongLinesAreSkippedAndRecordsAcrossBuffersRead) {
  const std::string long_cmdline(100000, 'a');
  std::string text = R"({"type":"process","pid":4,"time":1,"cmdline":")" + long_cmdline + "\"}\n";
  text += std::string(kMaxRecordBytes + 10, 'x') + "\n";
  text += R"({"type":"exit","pid":4,"time":3,"launches":9})" "\n";
  text += std::string(kMaxRecordBytes * 2, 'y');  // unterminated, too
  MergedReport r;
  add_report_text(r, text, "long.jsonl");
  ASSERT_EQ(r.processes.size(), 1u);
  EXPECT_EQ(r.processes[0].cmdline, long_cmdline);
  ASSERT_TRUE(r.processes[0].exit);
  EXPECT_EQ(r.processes[0].exit->launches, 9u);
  ASSERT_EQ(r.problems.size(), 2u);
  EXPECT_EQ(r.problems[0].line, 2u);
  EXPECT_NE(r.problems[0].reason.find("longer than 1 MiB"), std::string::npos) << r.problems[0].reason;
  EXPECT_EQ(r.problems[1].line, 4u);
  EXPECT_EQ(r.garbage_lines, 2u);
}

TEST(Reports, ProblemsAreListedUpToALimitPerFileThenCounted) {
  std::string text;
  for (int i = 0; i < 100; ++i) text += "garbage\n";
  text += R"({"type":"module","pid":5,"result":"zero"})" "\n";
  MergedReport r;
  add_report_text(r, text, "g.jsonl");
  EXPECT_EQ(r.garbage_lines, 101u);
  ASSERT_EQ(r.problems.size(), kMaxProblemsPerFile + 1);
  EXPECT_EQ(r.problems.back().line, 0u);
  EXPECT_NE(r.problems.back().reason.find("81 more problems"), std::string::npos) << r.problems.back().reason;
}

TEST(Reports, WrongFieldTypesAndNewerShimsAreNamed) {
  std::string text = R"({"type":"process","pid":6,"time":1,"format":9})" "\n"
                     R"({"type":"module","pid":6,"time":2,"source":7})" "\n"
                     R"({"type":"telemetry","pid":6,"time":3})" "\n";
  MergedReport r;
  add_report_text(r, text, "n.jsonl");
  EXPECT_EQ(r.newer_records, 1u);
  ASSERT_EQ(r.problems.size(), 2u);
  EXPECT_NE(r.problems[0].reason.find("newer smwatch (record format 9"), std::string::npos) << r.problems[0].reason;
  EXPECT_EQ(r.problems[1].line, 2u);
  EXPECT_NE(r.problems[1].reason.find("module record: field \"source\" is number, not a string"), std::string::npos)
      << r.problems[1].reason;
}

// 150 MB of records (module loads of 500 libraries, kernels, failures) under
// a 150 MB address-space limit: the old reader held about 5x its input.
TEST(ReportCommand, LargeReportsInBoundedMemory) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "ulimit -v cannot bound a sanitizer build";  // as in explain's test
#endif
  const std::string dir = test::scratch("report-large");
  size_t bytes = 0, loads = 0;
  for (int file = 0; file < 4; ++file) {
    std::ofstream out(dir + "/smwatch-" + std::to_string(100 + file) + "-1.jsonl", std::ios::binary);
    const std::string pid = std::to_string(100 + file);
    std::string chunk = R"({"type":"process","pid":)" + pid + R"(,"time":1,"targets":["sm_120"]})" "\n";
    for (int i = 0; bytes + chunk.size() < 150000000 / 4 * (file + 1); ++i) {
      out << chunk;
      bytes += chunk.size();
      chunk = R"({"type":"module","pid":)" + pid + R"(,"time":2.5,"call":"cuLibraryLoadData","handle":"0x7f00)" +
              std::to_string(i) + R"(","library":true,"source":"/venv/lib/python3.12/site-packages/pkg)" +
              std::to_string(i % 500) + R"(/lib/libkernels.so","caller":"/venv/lib/libtorch_cuda.so","archs":"sm_80 sm_90 ptx:compute_90","origin":"file","verdicts":{"sm_90":"OK","sm_120":"JIT"},"result":0,"result_name":"CUDA_SUCCESS","problems":[]})" "\n";
      ++loads;
      if (i % 10 == 0)
        chunk += R"({"type":"runtime_kernel","pid":)" + pid + R"(,"time":3,"kernel":"k","mangled":"_Z6kernel)" +
                 std::to_string(i % 2000) + R"(","source":"<memory>","caller":"/no/libcublasLt.so","archs":"sm_90"})" "\n";
    }
    out << R"({"type":"exit","pid":)" + pid + R"(,"time":9})" "\n";
  }
  auto r = test::run({"-c", "ulimit -v 150000; exec '" SMWATCH_PATH "' report --json '" + dir + "'"}, {}, "", "/bin/sh");
  ASSERT_EQ(r.status, 0) << r.err.substr(0, 400);
  nlohmann::json doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["summary"]["processes"], 4);
  EXPECT_EQ(doc["summary"]["modules"], loads - 4);  // the loop makes one chunk more per file than it writes
  EXPECT_EQ(doc["processes"][0]["modules"].size(), 500u);
}

}  // namespace
}  // namespace smwatch::cli

namespace smwatch::cli {
namespace {

// Kernels chosen at run time, judged against the library that loaded them.
TEST(WhatIf, RuntimeKernelsAreJudgedAgainstTheLibraryThatLoadedThem) {
  const std::string sm80 = SMWATCH_FIXTURE_DIR "/sm80.so", multi = SMWATCH_FIXTURE_DIR "/multi.so";
  auto record = [](const std::string& caller, const char* mangled) {
    return nlohmann::json({{"type", "runtime_kernel"}, {"pid", 7}, {"time", 1.0}, {"kernel", "k"},
                           {"mangled", mangled}, {"source", "<memory, loaded by " + caller + ">"},
                           {"caller", caller}, {"archs", "sm_90"}}).dump() + "\n";
  };
  std::string text = R"({"type":"process","pid":7,"time":1,"targets":["sm_120","sm_86"]})" "\n";
  text += record(sm80, "_Z12scale_by_twoPfi");      // sm80.so has nothing for sm_120: missing there
  text += record(multi, "_Z12scale_by_twoPfi");     // multi.so has code for both
  text += record(multi, "chosen_by_the_library");   // judged by the library as a whole too
  text += record("/no/such/lib.so", "unjudged");    // neither a record nor the file: not judged
  text += record(SMWATCH_PATH, "generated");        // a file without device code: generated
  MergedReport r;
  add_report_text(r, text, "p.jsonl");
  judge_what_if(r);
  ASSERT_EQ(r.processes.size(), 1u);
  const ProcessReport& p = r.processes[0];
  EXPECT_EQ(p.runtime_from_library, 3u);
  EXPECT_EQ(p.runtime_generated, 1u);
  EXPECT_EQ(p.runtime_unjudged, 1u);
  ASSERT_EQ(p.unjudged.size(), 2u);  // one per target, never "missing"
  EXPECT_EQ(p.unjudged[0].origin, kLibraryNotReadable);
  ASSERT_EQ(p.missing.size(), 1u);  // sm80.so on sm_120; on sm_86 its sm_80 SASS runs
  EXPECT_EQ(p.missing[0].target, "sm_120");
  EXPECT_EQ(p.missing[0].source, sm80);
  EXPECT_EQ(p.missing[0].origin, "chosen at run time by its library");
  EXPECT_EQ(r.missing_count(), 1u);
}

// A kernel the shim found missing in a registered fatbin counts as missing
// only when its library has nothing for the target (cuSOLVER's getrf kernels
// exist only from sm_80 on; on sm_75 it calls others).
TEST(WhatIf, MissingInOneFatbinOfALibraryThatServesTheTargetIsPartial) {
  const std::string split = SMWATCH_FIXTURE_DIR "/libkernels.a";  // sm_80 + compute_80 object, sm_90 object
  const std::string sm80 = SMWATCH_FIXTURE_DIR "/sm80.so";
  auto missing = [](const std::string& source, const char* target) {
    return nlohmann::json({{"type", "missing"}, {"pid", 9}, {"time", 1.0}, {"target", target}, {"kernel", "k"},
                           {"mangled", "k"}, {"source", source}, {"archs", "sm_90"}}).dump() + "\n";
  };
  std::string text = R"({"type":"process","pid":9,"time":1,"targets":["sm_80","sm_120"]})" "\n";
  text += missing(split, "sm_80");   // the file has sm_80 code elsewhere: PARTIAL
  text += missing(sm80, "sm_120");   // nothing in sm80.so for sm_120: missing
  MergedReport r;
  add_report_text(r, text, "q.jsonl");
  judge_what_if(r);
  const ProcessReport& p = r.processes[0];
  ASSERT_EQ(p.missing.size(), 1u);
  EXPECT_EQ(p.missing[0].source, sm80);
  ASSERT_EQ(p.partial.size(), 1u);
  EXPECT_EQ(p.partial[0].source, split);
  EXPECT_EQ(r.missing_count(), 1u);
  EXPECT_EQ(r.exit_code(), 1);
}

// Issue 20: the what-if verdicts come from what the records carry (the
// shim's `library` records, else the registered modules of the same library
// in the same process), so they are the same on a machine without the
// libraries; what cannot be judged is said so, never "would fail".
TEST(WhatIf, LibraryRecordsJudgeWithoutTheFiles) {
  auto line = [](nlohmann::json j) {
    j["pid"] = 11;
    j["time"] = 1.0;
    return j.dump() + "\n";
  };
  auto library = [&](const char* path, uint64_t fatbins, const char* sm120) {
    nlohmann::json verdicts = nlohmann::json::object();
    if (fatbins) verdicts = {{"sm_90", "OK"}, {"sm_120", sm120}};
    return line({{"type", "library"}, {"path", path}, {"archs", fatbins ? "sm_80 sm_90 sm_120" : ""},
                 {"fatbins", fatbins}, {"verdicts", verdicts}});
  };
  auto missing = [&](const char* source) {
    return line({{"type", "missing"}, {"target", "sm_120"}, {"kernel", "k"}, {"mangled", "k"}, {"source", source},
                 {"archs", "sm_80"}});
  };
  auto runtime = [&](const char* caller) {
    return line({{"type", "runtime_kernel"}, {"kernel", "r"}, {"mangled", "r"}, {"caller", caller},
                 {"source", std::string("<memory, loaded by ") + caller + ">"}, {"archs", "sm_90"}});
  };
  std::string text = line({{"type", "process"}, {"targets", {"sm_120"}}});
  text += library("/gone/libcudnn_engines_precompiled.so.9", 40, "OK");  // serves sm_120 elsewhere
  text += library("/gone/libold.so", 2, "FAIL");
  text += library("/gone/libcublasLt.so.13", 9, "OK");
  text += library("/gone/libtriton.so", 0, "");
  // An older shim's report: only the modules of the library show what it serves.
  text += line({{"type", "module"}, {"source", "/gone/libcusolver.so.12"}, {"origin", "file"}, {"archs", "sm_120"},
                {"verdicts", {{"sm_120", "OK"}}}});
  text += missing("/gone/libcudnn_engines_precompiled.so.9");  // PARTIAL
  text += missing("/gone/libold.so");                          // would fail
  text += missing("/gone/libcusolver.so.12");                  // PARTIAL, by its modules
  text += missing("/gone/libunknown.so");                      // not judged
  text += runtime("/gone/libcublasLt.so.13");                  // by its library: fine on sm_120
  text += runtime("/gone/libtriton.so");                       // generated
  text += line({{"type", "exit"}, {"launches", 1}});
  MergedReport r;
  add_report_text(r, text, "l.jsonl");
  finish_report(r);
  const ProcessReport& p = r.processes.at(0);
  ASSERT_EQ(p.missing.size(), 1u);
  EXPECT_EQ(p.missing[0].source, "/gone/libold.so");
  EXPECT_EQ(p.partial.size(), 2u);
  ASSERT_EQ(p.unjudged.size(), 1u);
  EXPECT_EQ(p.unjudged[0].source, "/gone/libunknown.so");
  EXPECT_EQ(p.runtime_from_library, 1u);
  EXPECT_EQ(p.runtime_generated, 1u);
  EXPECT_EQ(p.runtime_unjudged, 0u);
  std::ostringstream out;
  render_report(out, r, Format::kText);
  const std::string s = out.str();
  EXPECT_NE(s.find("what-if sm_120: 1 kernel without code"), std::string::npos) << s;
  EXPECT_NE(s.find("1 what-if kernel not judged (library not readable here)"), std::string::npos) << s;
  EXPECT_NE(s.find("k in /gone/libunknown.so\n"), std::string::npos) << s;
  EXPECT_EQ(s.find("k in /gone/libunknown.so (holds"), std::string::npos) << "listed as not judged, not as failing";
}

// Issue 20: a 209 from a look-up of a kernel built for other GPUs, in a
// library that serves this GPU, is handled by the library when the process
// exits normally: counted apart, never at fault, no fix. After a crash it is
// a failure.
TEST(Reports, HandledLookupsAreFailuresOnlyWhenTheProcessDidNotExit) {
  const std::string lookup =
      R"j({"type":"failure","pid":5,"time":2,"call":"cuLibraryGetKernel","error":209,"error_name":"CUDA_ERROR_NO_BINARY_FOR_GPU","kernel":"ncclSymkDevKernel_AllReduce_f8e4m3","mangled":"ncclSymkDevKernel_AllReduce_f8e4m3","source":"/venv/nvidia/nccl/lib/libnccl.so.2","archs":"sm_90 sm_100f(2)","gpu_arch":"sm_90","fix":"","built_for_other_gpus":true})j";
  const std::string header = R"({"type":"process","pid":5,"time":1,"targets":[]})";
  const std::string exit = R"({"type":"exit","pid":5,"time":3,"launches":9,"failures":0,"handled_lookups":2})";
  for (bool exited : {true, false}) {
    MergedReport r;
    add_report_text(r, header + "\n" + lookup + "\n" + lookup + "\n" + (exited ? exit + "\n" : ""), "h.jsonl");
    finish_report(r);
    std::ostringstream text, json_out;
    render_report(text, r, Format::kText);
    render_report(json_out, r, Format::kJson);
    const std::string s = text.str();
    auto j = nlohmann::json::parse(json_out.str());
    if (exited) {
      EXPECT_EQ(r.failure_count(), 0u);
      EXPECT_EQ(r.exit_code(), 0);
      EXPECT_NE(s.find("2 look-ups of kernels built only for other GPUs handled by their library"), std::string::npos) << s;
      EXPECT_NE(s.find("Handled look-ups (2)"), std::string::npos) << s;
      EXPECT_EQ(s.find("Libraries at fault"), std::string::npos) << s;
      EXPECT_EQ(s.find("fix:"), std::string::npos) << s;
      EXPECT_NE(s.find("No failures"), std::string::npos) << s;
      EXPECT_EQ(j["summary"]["handled_lookups"], 2);
      EXPECT_EQ(j["handled_lookups"].size(), 1u);
    } else {
      EXPECT_EQ(r.failure_count(), 2u);
      EXPECT_EQ(r.exit_code(), 1);
      EXPECT_NE(s.find("Libraries at fault:\n  /venv/nvidia/nccl/lib/libnccl.so.2"), std::string::npos) << s;
      EXPECT_EQ(s.find("Handled look-ups"), std::string::npos) << s;
      EXPECT_EQ(j["summary"]["handled_lookups"], 0);
    }
  }
}

}  // namespace
}  // namespace smwatch::cli
