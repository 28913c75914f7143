# The inspector's layers go one way down: image/ includes only image/
# headers, record/ only its own, files/ only image/ and files/, report/ image/,
# files/ and report/; the shim (shim/) links only the image and record
# layers, so it includes only their headers.
# Run as a test: cmake -DSOURCE_DIR=<repo> -P layers.cmake; fails naming
# every #include "smwatch/xxx.h" that reaches up.
cmake_minimum_required(VERSION 3.25)
set(root ${SOURCE_DIR}/inspector)
set(bad "")
# folder : the layers whose headers it may include
foreach(rule "inspector/image:image" "inspector/record:record" "inspector/files:image;files"
             "inspector/report:image;files;report" "shim:image;record")
  string(REPLACE ":" ";" parts "${rule}")
  list(GET parts 0 layer)
  list(SUBLIST parts 1 -1 allowed)
  set(allowed_headers "")
  foreach(a IN LISTS allowed)
    file(GLOB hs RELATIVE ${root}/${a}/include ${root}/${a}/include/smwatch/*.h)
    list(APPEND allowed_headers ${hs})
  endforeach()
  file(GLOB_RECURSE sources ${SOURCE_DIR}/${layer}/*.cc ${SOURCE_DIR}/${layer}/*.h)
  foreach(src IN LISTS sources)
    file(STRINGS ${src} lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"smwatch/")
    foreach(line IN LISTS lines)
      string(REGEX REPLACE ".*\"(smwatch/[^\"]+)\".*" "\\1" header "${line}")
      if(NOT header IN_LIST allowed_headers)
        file(RELATIVE_PATH rel ${SOURCE_DIR} ${src})
        string(APPEND bad "  ${rel}: ${header} (${layer}/ may use only: ${allowed})\n")
      endif()
    endforeach()
  endforeach()
endforeach()
if(bad)
  message(FATAL_ERROR "inspector layers reach up:\n${bad}")
endif()
message(STATUS "inspector layers: every #include goes down")
