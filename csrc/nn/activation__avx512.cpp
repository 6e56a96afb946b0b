// float32 activation kernels on the avx512 path: activation_simd.h over the avx512 vector.
#include "nn/activation_isa.h"
#include "nn/activation_simd.h"
#include "nn/vmath_vec_avx512.h"

namespace pydl::nn::avx512 {

using Vf = vmath::avx512::Vf;

void f32_activation_forward(Activation act, float alpha, const float* x, std::ptrdiff_t ldx,
                            float* y, std::ptrdiff_t ldy, std::ptrdiff_t rows,
                            std::ptrdiff_t cols) {
    simd::forward_rows<Vf>(act, alpha, x, ldx, y, ldy, rows, cols);
}

void f32_activation_backward(Activation act, float alpha, const float* z, const float* y,
                             const float* dy, float* dx, std::ptrdiff_t rows,
                             std::ptrdiff_t cols) {
    simd::backward_rows<Vf>(act, alpha, z, y, dy, dx, rows, cols);
}

}  // namespace pydl::nn::avx512
