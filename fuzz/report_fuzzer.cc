// What the user sees: scan_bytes() then the verdicts, the JSON document (must
// always serialise: kernel names come from the file) and the cuobjdump listing.
#include <sstream>

#include "common.h"
#include "smwatch/report.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace smwatch;
  ScanOptions options;
  options.kernels = true;
  TreeScan tree;
  tree.files.push_back(scan_bytes(ByteView(data, size), "fuzz.so", options));
  std::vector<Target> targets;
  for (const char* spec : {"sm_120", "sm_90a", "sm_80"}) targets.push_back(*parse_target(spec));
  ScanReport report = judge(std::move(tree), std::move(targets));
  std::ostringstream out;
  out << to_json(report).dump(2);
  print_table(out, report, {});
  print_cuobjdump_list(out, report.tree.files[0]);
  return 0;
}
