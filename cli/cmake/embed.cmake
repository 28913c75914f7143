# Turns cli/signatures.json into a header holding it as a string, so that the
# smwatch binary works with no data file next to it. Included by
# cli/CMakeLists.txt with INPUT and OUTPUT set (or run with cmake -P).
file(READ "${INPUT}" content)
set(delim "smwatch_sigs")  # at most 16 characters (C++)
string(FIND "${content}" ")${delim}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw-string delimiter ')${delim}\"'")
endif()
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT} by cli/cmake/embed.cmake: edit the JSON, not this file.\n"
  "#pragma once\n#include <string_view>\n"
  "inline constexpr std::string_view kBuiltinSignatures = R\"${delim}(${content})${delim}\";\n")
# Only touch the header when it changes, so that nothing rebuilds needlessly.
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
