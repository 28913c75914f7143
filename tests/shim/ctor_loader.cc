// A library whose constructor loads a module, as libraries that register
// their kernels at load time do: it runs with the loader's lock held
// (dlopen), and reaches the shim's hooks from there. For the deadlock test
// (ShimThreads.LoadsWhileALibraryConstructorLoadsNeverDeadlock).
#include <cuda.h>

namespace {
const char kPtx[] = ".version 8.0\n.target sm_80\n.address_size 64\n.visible .entry ctor_kernel()\n{\n ret;\n}\n";
}

__attribute__((constructor)) static void load_a_module_while_loaded() {
  CUmodule module = nullptr;
  if (cuModuleLoadData(&module, kPtx) == CUDA_SUCCESS) cuModuleUnload(module);
}
