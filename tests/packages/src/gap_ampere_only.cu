// The other half of partial_gap.so: built for sm_80 only, so on any GPU but
// the 8.x family this kernel fails if it is called: a true partial gap.
__global__ void ampere_only(float* p) { p[0] = 2.0f; }
