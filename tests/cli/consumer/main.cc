// Uses the installed inspector: parse a GPU name, scan a file, print verdicts.
#include <cstdio>
#include <string>

#include "smwatch/arch.h"
#include "smwatch/scan.h"
#include "smwatch/verdict.h"

int main(int argc, char** argv) {
  auto target = smwatch::parse_target("RTX 5090");
  if (!target || target->cc != 120) return 1;
  std::printf("target %s\n", target->sm_name().c_str());
  for (int i = 1; i < argc; ++i) {
    smwatch::FileScan scan = smwatch::scan_file(argv[i], {});
    smwatch::FileVerdict v = smwatch::judge_code(scan.containers, target->cc);
    std::printf("%s: %s %s\n", argv[i], smwatch::compact_archs(scan.containers).c_str(), smwatch::verdict_name(v.verdict));
  }
  return 0;
}
