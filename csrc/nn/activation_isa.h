// The per-ISA float32 activation kernels (activation__avx2.cpp,
// activation__avx512.cpp), installed by activation.cpp. Same contracts as
// activation_forward_rows / activation_backward_rows in activation.h.
#pragma once

#include <cstddef>

#include "nn/activation.h"

namespace pydl::nn {

using ActivationForwardF32 = void (*)(Activation act, float alpha, const float* x,
                                      std::ptrdiff_t ldx, float* y, std::ptrdiff_t ldy,
                                      std::ptrdiff_t rows, std::ptrdiff_t cols);
using ActivationBackwardF32 = void (*)(Activation act, float alpha, const float* z,
                                       const float* y, const float* dy, float* dx,
                                       std::ptrdiff_t rows, std::ptrdiff_t cols);

#if defined(PYDL_X86)
namespace avx2 {
void f32_activation_forward(Activation act, float alpha, const float* x, std::ptrdiff_t ldx,
                            float* y, std::ptrdiff_t ldy, std::ptrdiff_t rows,
                            std::ptrdiff_t cols);
void f32_activation_backward(Activation act, float alpha, const float* z, const float* y,
                             const float* dy, float* dx, std::ptrdiff_t rows,
                             std::ptrdiff_t cols);
}  // namespace avx2
namespace avx512 {
void f32_activation_forward(Activation act, float alpha, const float* x, std::ptrdiff_t ldx,
                            float* y, std::ptrdiff_t ldy, std::ptrdiff_t rows,
                            std::ptrdiff_t cols);
void f32_activation_backward(Activation act, float alpha, const float* z, const float* y,
                             const float* dy, float* dx, std::ptrdiff_t rows,
                             std::ptrdiff_t cols);
}  // namespace avx512
#endif

}  // namespace pydl::nn
