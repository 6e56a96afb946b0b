// The optimizer loops compiled for avx2 (flags from CMake by file name).
#define PYDL_OPTIM_NS avx2
#include "nn/optim_loops.h"
