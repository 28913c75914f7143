// A library whose per-architecture images define different kernels, as
// sm_90a/sm_100a builds of real libraries do: `everywhere` is in every image,
// `from_hopper` only in the sm_90 and sm_90a images, `hopper_a_only` only in
// the sm_90a image. The host pass (no __CUDA_ARCH__) sees all three.
__global__ void everywhere(int* p) { p[0] = 1; }

#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 900
__global__ void from_hopper(int* p) { p[1] = 2; }
#endif

#if !defined(__CUDA_ARCH__) || defined(__CUDA_ARCH_FEAT_SM90_ALL)
__global__ void hopper_a_only(int* p) { p[2] = 3; }
#endif
