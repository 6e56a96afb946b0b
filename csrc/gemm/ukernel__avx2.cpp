// AVX2 + FMA microkernels (gemm/ukernel.h): 16 ymm registers hold a 6 x 2-vector
// tile of accumulators (12), the B row (2) and a broadcast of A.
#include <immintrin.h>

#include "gemm/ukernel.h"
#include "gemm/ukernel_simd.h"

namespace pydl::gemm::avx2 {
namespace {

struct F32x8 {
    using T = float;
    using reg = __m256;
    static constexpr int width = 8;
    static reg loadu(const T* p) { return _mm256_loadu_ps(p); }
    static void storeu(T* p, reg v) { _mm256_storeu_ps(p, v); }
    static reg broadcast(const T* p) { return _mm256_broadcast_ss(p); }
    static reg zero() { return _mm256_setzero_ps(); }
    static reg fmadd(reg a, reg b, reg c) { return _mm256_fmadd_ps(a, b, c); }
};

struct F64x4 {
    using T = double;
    using reg = __m256d;
    static constexpr int width = 4;
    static reg loadu(const T* p) { return _mm256_loadu_pd(p); }
    static void storeu(T* p, reg v) { _mm256_storeu_pd(p, v); }
    static reg broadcast(const T* p) { return _mm256_broadcast_sd(p); }
    static reg zero() { return _mm256_setzero_pd(); }
    static reg fmadd(reg a, reg b, reg c) { return _mm256_fmadd_pd(a, b, c); }
};

}  // namespace

void f32_gemm_ukernel_6x16__avx2(std::ptrdiff_t k, const float* a, const float* b,
                                 std::ptrdiff_t ldb, float* c, std::ptrdiff_t ldc,
                                 const float* bias, bool load_c) {
    gemm_ukernel_simd<F32x8, 6, 2>(k, a, b, ldb, c, ldc, bias, load_c);
}

void f64_gemm_ukernel_6x8__avx2(std::ptrdiff_t k, const double* a, const double* b,
                                std::ptrdiff_t ldb, double* c, std::ptrdiff_t ldc,
                                const double* bias, bool load_c) {
    gemm_ukernel_simd<F64x4, 6, 2>(k, a, b, ldb, c, ldc, bias, load_c);
}

UkernelTable ukernel_table() {
    UkernelTable t;
    t.f32.fn = f32_gemm_ukernel_6x16__avx2;
    t.f32.mr = 6;
    t.f32.nr = 16;
    t.f32.mc = 144;
    t.f32.kc = 256;
    t.f32.nc = 4080;
    t.f32.name = "f32_gemm_ukernel_6x16__avx2";
    t.f64.fn = f64_gemm_ukernel_6x8__avx2;
    t.f64.mr = 6;
    t.f64.nr = 8;
    t.f64.mc = 72;
    t.f64.kc = 256;
    t.f64.nc = 4080;
    t.f64.name = "f64_gemm_ukernel_6x8__avx2";
    return t;
}

}  // namespace pydl::gemm::avx2
