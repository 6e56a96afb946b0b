// float32 exp, log, tanh on the avx512 path: vmath_simd.h over the avx512 vector.
#include "nn/vmath_isa.h"
#include "nn/vmath_simd.h"
#include "nn/vmath_vec_avx512.h"

namespace pydl::vmath::avx512 {

void f32_exp(const float* x, float* out, std::ptrdiff_t n) { simd::exp_array<Vf>(x, out, n); }
void f32_log(const float* x, float* out, std::ptrdiff_t n) { simd::log_array<Vf>(x, out, n); }
void f32_tanh(const float* x, float* out, std::ptrdiff_t n) { simd::tanh_array<Vf>(x, out, n); }

}  // namespace pydl::vmath::avx512
