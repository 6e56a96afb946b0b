// The normalization loops compiled for avx2 (flags from CMake by file name).
#define PYDL_NORM_NS avx2
#include "nn/norm_loops.h"
