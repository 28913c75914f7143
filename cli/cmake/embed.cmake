# Turns a data file into a header holding it as a string, so that a binary
# works with no data file next to it: cli/signatures.json (smwatch) and
# inspector/report/package_facts.json (smscan's judge). Included with INPUT
# and OUTPUT set, and EMBED_NAME, the constant's name (default
# kBuiltinSignatures), or run with cmake -P.
if(NOT DEFINED EMBED_NAME)
  set(EMBED_NAME kBuiltinSignatures)
endif()
file(READ "${INPUT}" content)
set(delim "smwatch_sigs")  # at most 16 characters (C++)
string(FIND "${content}" ")${delim}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw-string delimiter ')${delim}\"'")
endif()
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT} by cli/cmake/embed.cmake: edit the data, not this file.\n"
  "#pragma once\n#include <string_view>\n"
  "inline constexpr std::string_view ${EMBED_NAME} = R\"${delim}(${content})${delim}\";\n")
# Only touch the header when it changes, so that nothing rebuilds needlessly.
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
