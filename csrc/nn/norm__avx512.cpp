// The normalization loops compiled for avx512 (flags from CMake by file name).
#define PYDL_NORM_NS avx512
#include "nn/norm_loops.h"
