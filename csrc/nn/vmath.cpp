// Dispatch of the vector math: float32 goes to the installed SIMD path,
// float64 (and the generic path) to the C library.
#include "nn/vmath.h"

#include <cmath>
#include <type_traits>

#include "cpu/isa.h"
#include "nn/vmath_isa.h"

namespace pydl::vmath {
namespace {

using UnaryF32 = void (*)(const float*, float*, std::ptrdiff_t);

template <class T, T (*F)(T)>
void libm_map(const T* x, T* out, std::ptrdiff_t n) {
    for (std::ptrdiff_t i = 0; i < n; ++i) out[i] = F(x[i]);
}

float exp_f(float x) { return std::exp(x); }
float log_f(float x) { return std::log(x); }
float tanh_f(float x) { return std::tanh(x); }
double exp_d(double x) { return std::exp(x); }
double log_d(double x) { return std::log(x); }
double tanh_d(double x) { return std::tanh(x); }

struct F32Kernels {
    UnaryF32 exp, log, tanh;
};
constexpr F32Kernels kGenericF32 = {libm_map<float, exp_f>, libm_map<float, log_f>,
                                    libm_map<float, tanh_f>};
F32Kernels g_f32 = kGenericF32;  // constant-initialized: valid before any installer runs

void install(Isa isa) {
    g_f32 = kGenericF32;
#if defined(PYDL_X86)
    if (isa >= Isa::avx2) g_f32 = {avx2::f32_exp, avx2::f32_log, avx2::f32_tanh};
    if (isa >= Isa::avx512) g_f32 = {avx512::f32_exp, avx512::f32_log, avx512::f32_tanh};
#endif
}
PYDL_REGISTER_KERNELS(install);

}  // namespace

// float32: the installed path; float64: the C library.
template <class T>
void exp(const T* x, T* out, std::ptrdiff_t n) {
    if (n <= 0) return;
    if constexpr (std::is_same_v<T, float>) g_f32.exp(x, out, n);
    else libm_map<double, exp_d>(x, out, n);
}
template <class T>
void log(const T* x, T* out, std::ptrdiff_t n) {
    if (n <= 0) return;
    if constexpr (std::is_same_v<T, float>) g_f32.log(x, out, n);
    else libm_map<double, log_d>(x, out, n);
}
template <class T>
void tanh(const T* x, T* out, std::ptrdiff_t n) {
    if (n <= 0) return;
    if constexpr (std::is_same_v<T, float>) g_f32.tanh(x, out, n);
    else libm_map<double, tanh_d>(x, out, n);
}

template void exp<float>(const float*, float*, std::ptrdiff_t);
template void exp<double>(const double*, double*, std::ptrdiff_t);
template void log<float>(const float*, float*, std::ptrdiff_t);
template void log<double>(const double*, double*, std::ptrdiff_t);
template void tanh<float>(const float*, float*, std::ptrdiff_t);
template void tanh<double>(const double*, double*, std::ptrdiff_t);

}  // namespace pydl::vmath
