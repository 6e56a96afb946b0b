// float32 activation kernels on the avx2 path: activation_simd.h over the avx2 vector.
#include "nn/activation_isa.h"
#include "nn/activation_simd.h"
#include "nn/vmath_vec_avx2.h"

namespace pydl::nn::avx2 {

using Vf = vmath::avx2::Vf;

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

}  // namespace pydl::nn::avx2
