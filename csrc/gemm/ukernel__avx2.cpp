// AVX2 + FMA microkernels (gemm/ukernel.h): 16 ymm registers hold a 6 x 2-vector
// tile of accumulators (12), the B row (2) and a broadcast of A; the narrow
// kernels (6 x 1 vector) take the last few columns, and the 4-row ones the
// small products whose M is a multiple of 4 but not of 6.
#include <immintrin.h>

#include "gemm/ukernel.h"
#include "gemm/ukernel_simd.h"

namespace pydl::gemm::avx2 {
namespace {

// All-ones in the 32-bit lanes [0, n) (AVX2 masked loads and stores test the sign bit).
__m256i first_lanes_32(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
// All-ones in the 64-bit lanes [0, n).
__m256i first_lanes_64(int n) {
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3));
}

struct F32x8 {
    using T = float;
    using reg = __m256;
    static constexpr int width = 8;
    static reg loadu(const T* p) { return _mm256_loadu_ps(p); }
    static void storeu(T* p, reg v) { _mm256_storeu_ps(p, v); }
    static reg loadu_first(const T* p, int n) { return _mm256_maskload_ps(p, first_lanes_32(n)); }
    static void storeu_first(T* p, reg v, int n) { _mm256_maskstore_ps(p, first_lanes_32(n), v); }
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
    static reg loadu_first(const T* p, int n) { return _mm256_maskload_pd(p, first_lanes_64(n)); }
    static void storeu_first(T* p, reg v, int n) { _mm256_maskstore_pd(p, first_lanes_64(n), v); }
    static reg broadcast(const T* p) { return _mm256_broadcast_sd(p); }
    static reg zero() { return _mm256_setzero_pd(); }
    static reg fmadd(reg a, reg b, reg c) { return _mm256_fmadd_pd(a, b, c); }
};

}  // namespace

UkernelTable ukernel_table() {
    // make_ukernel<V, MR, vectors per row>(mc, kc, nc, name)
    UkernelTable t;
    t.f32.tall.main = make_ukernel<F32x8, 6, 2>(144, 256, 4080, "f32_gemm_ukernel_6x16__avx2");
    t.f32.tall.narrow = make_ukernel<F32x8, 6, 1>(144, 256, 4080, "f32_gemm_ukernel_6x8__avx2");
    t.f32.short_rows.main = make_ukernel<F32x8, 4, 2>(144, 256, 4080, "f32_gemm_ukernel_4x16__avx2");
    t.f32.short_rows.narrow = make_ukernel<F32x8, 4, 1>(144, 256, 4080, "f32_gemm_ukernel_4x8__avx2");
    t.f64.tall.main = make_ukernel<F64x4, 6, 2>(72, 256, 4080, "f64_gemm_ukernel_6x8__avx2");
    t.f64.tall.narrow = make_ukernel<F64x4, 6, 1>(72, 256, 4080, "f64_gemm_ukernel_6x4__avx2");
    t.f64.short_rows.main = make_ukernel<F64x4, 4, 2>(72, 256, 4080, "f64_gemm_ukernel_4x8__avx2");
    t.f64.short_rows.narrow = make_ukernel<F64x4, 4, 1>(72, 256, 4080, "f64_gemm_ukernel_4x4__avx2");
    return t;
}

}  // namespace pydl::gemm::avx2
