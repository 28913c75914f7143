#include "shared_template.h"
template __global__ void scale<float>(float*, float);
__global__ void only_in_b(int* p) { p[0] = 2; }
