// Reading a module image that the host handed the driver as a bare pointer
// (a fatbin, the runtime's registration wrapper around one, a cubin or PTX
// text): how far it extends and how far it is readable (the loader's segment
// bounds inside a loaded object, a process_vm_readv probe elsewhere), so that
// a damaged or hostile image can never make the shim read memory it cannot:
// unmapped, or a PROT_NONE guard page.
#pragma once

#include <string>
#include <vector>

#include "smwatch/fatbin.h"

namespace smwatch::shim {

struct LoadedImage {
  std::vector<FatbinContainer> containers;  // a cubin or PTX gets one container of its own
  std::vector<std::string> problems;
  const uint8_t* base = nullptr;  // the bytes the offsets in `containers` count from
  size_t size = 0;
  std::string object;             // the shared object or executable holding it, "" for heap memory
  // In the object's .nv_fatbin section: code the CUDA runtime registers, the
  // same on every GPU. Elsewhere (heap, the library's own data) the image was
  // chosen or generated at run time for the GPU in use.
  bool in_fatbin_section = false;
};

// Reads the headers of the image at `image` (and, for images not inside a
// loaded object, which the host may free after the call, also the kernel
// names right away).
LoadedImage read_image_in_memory(const void* image);
// The same for a file named to cuModuleLoad / cuLibraryLoadFromFile; kernel
// names are read at once, since the file is not kept open.
LoadedImage read_image_file(const char* path);
// Fills in the kernel names of every image (decompressing where needed).
void read_kernel_names(LoadedImage& image);

// The device code of the whole loaded object that holds `address`: every
// container of its fatbin sections (headers only, read where the loader
// mapped them). `path` is empty when `address` is in no loaded object.
struct ObjectCode {
  std::string path;
  std::vector<FatbinContainer> containers;
  std::vector<std::string> problems;
};
ObjectCode read_object_code(const void* address);

}  // namespace smwatch::shim
