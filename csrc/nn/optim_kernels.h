// Optimizer kernels: the per-call scalars and the per-ISA entry points
// (internal to the optimizers area; the public API is nn/optim.h).
//
// The loops themselves live in nn/optim_loops.h, written once and compiled per
// SIMD path: optim.cpp (generic), optim__avx2.cpp and optim__avx512.cpp each
// include it inside a namespace of their own.
#pragma once

#include <cstddef>

#include "nn/optim.h"

namespace pydl::nn::optim_detail {

// The scalars of a step, rounded to T once per call (computed in double in
// optim.cpp, so that no libm call is compiled into the per-ISA files).
template <class T>
struct Scalars {
    T lr, momentum, rho, one_minus_rho, epsilon;
    T one_minus_beta_1, one_minus_beta_2, alpha;  // adam
    T grad_scale, clip_value, weight_decay;
};

template <class T>
using RangeKernel = void (*)(const OptimizerStep&, const Scalars<T>&, const OptimizerTensor<T>&,
                             std::ptrdiff_t, std::ptrdiff_t);

#define PYDL_OPTIM_DECLARE(ns)                                                                \
    namespace ns {                                                                            \
    void step_range_f32(const OptimizerStep&, const Scalars<float>&,                          \
                        const OptimizerTensor<float>&, std::ptrdiff_t, std::ptrdiff_t);       \
    void step_range_f64(const OptimizerStep&, const Scalars<double>&,                         \
                        const OptimizerTensor<double>&, std::ptrdiff_t, std::ptrdiff_t);      \
    }
PYDL_OPTIM_DECLARE(generic)
PYDL_OPTIM_DECLARE(avx2)
PYDL_OPTIM_DECLARE(avx512)
#undef PYDL_OPTIM_DECLARE

}  // namespace pydl::nn::optim_detail
