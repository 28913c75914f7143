// One template kernel instantiated in two translation units (shared_a.cu and
// shared_b.cu): the same mangled name in two fatbin containers of one .so.
template <typename T>
__global__ void scale(T* p, T by) { p[threadIdx.x] *= by; }
