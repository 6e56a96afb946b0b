// The optimizer loops compiled for avx512 (flags from CMake by file name).
#define PYDL_OPTIM_NS avx512
#include "nn/optim_loops.h"
