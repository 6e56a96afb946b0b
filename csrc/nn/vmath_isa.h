// The per-ISA float32 vector math (vmath__avx2.cpp, vmath__avx512.cpp), installed
// by vmath.cpp. Same contracts as vmath.h.
#pragma once

#include <cstddef>

namespace pydl::vmath {

#if defined(PYDL_X86)
namespace avx2 {
void f32_exp(const float* x, float* out, std::ptrdiff_t n);
void f32_log(const float* x, float* out, std::ptrdiff_t n);
void f32_tanh(const float* x, float* out, std::ptrdiff_t n);
}  // namespace avx2
namespace avx512 {
void f32_exp(const float* x, float* out, std::ptrdiff_t n);
void f32_log(const float* x, float* out, std::ptrdiff_t n);
void f32_tanh(const float* x, float* out, std::ptrdiff_t n);
}  // namespace avx512
#endif

}  // namespace pydl::vmath
