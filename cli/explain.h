// `smwatch explain`: recognising known CUDA failure signatures in logs.
//
// The signatures and the knowledge their fixes are made of are data
// (cli/signatures.json); the matcher lives in cli/explain/:
//   signatures  the document parsed and checked (signatures.h, knowledge.h)
//   facts       what the log says about its stack, with the line of each (facts.h)
//   locate      which package the failing code belongs to (locate.h)
//   advice      the values and text of a finding (advice.h, values.h)
//   stream      the streaming matcher (stream.h): the fuzzers' entry point
//   command     `smwatch explain` itself (command.h)
#pragma once

#include "explain/facts.h"
#include "explain/finding.h"
#include "explain/signatures.h"
#include "explain/stream.h"
