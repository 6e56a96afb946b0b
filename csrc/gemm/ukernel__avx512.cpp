// AVX-512 microkernels (gemm/ukernel.h): 32 zmm registers hold a 12 x 2-vector
// tile of accumulators (24), the B row (2) and a broadcast of A; the narrow
// kernels (12 x 1 vector) take the last few columns, and the 8-row ones the
// small products whose M is a multiple of 8 but not of 12.
#include <immintrin.h>

#include "gemm/ukernel.h"
#include "gemm/ukernel_simd.h"

namespace pydl::gemm::avx512 {
namespace {

// Lanes [0, n) of a `width`-lane register, for the masked edge loads and stores.
template <class Mask, int width>
Mask first_lanes(int n) {
    if (n >= width) return static_cast<Mask>(~0u);
    return n <= 0 ? Mask(0) : static_cast<Mask>((1u << n) - 1u);
}

struct F32x16 {
    using T = float;
    using reg = __m512;
    static constexpr int width = 16;
    static reg loadu(const T* p) { return _mm512_loadu_ps(p); }
    static void storeu(T* p, reg v) { _mm512_storeu_ps(p, v); }
    static reg loadu_first(const T* p, int n) {
        return _mm512_maskz_loadu_ps(first_lanes<__mmask16, width>(n), p);
    }
    static void storeu_first(T* p, reg v, int n) {
        _mm512_mask_storeu_ps(p, first_lanes<__mmask16, width>(n), v);
    }
    static reg broadcast(const T* p) { return _mm512_set1_ps(*p); }
    static reg zero() { return _mm512_setzero_ps(); }
    static reg fmadd(reg a, reg b, reg c) { return _mm512_fmadd_ps(a, b, c); }
};

struct F64x8 {
    using T = double;
    using reg = __m512d;
    static constexpr int width = 8;
    static reg loadu(const T* p) { return _mm512_loadu_pd(p); }
    static void storeu(T* p, reg v) { _mm512_storeu_pd(p, v); }
    static reg loadu_first(const T* p, int n) {
        return _mm512_maskz_loadu_pd(first_lanes<__mmask8, width>(n), p);
    }
    static void storeu_first(T* p, reg v, int n) {
        _mm512_mask_storeu_pd(p, first_lanes<__mmask8, width>(n), v);
    }
    static reg broadcast(const T* p) { return _mm512_set1_pd(*p); }
    static reg zero() { return _mm512_setzero_pd(); }
    static reg fmadd(reg a, reg b, reg c) { return _mm512_fmadd_pd(a, b, c); }
};

}  // namespace

UkernelTable ukernel_table() {
    // make_ukernel<V, MR, vectors per row>(mc, kc, nc, name)
    UkernelTable t;
    t.f32.tall.main = make_ukernel<F32x16, 12, 2>(144, 512, 1024, "f32_gemm_ukernel_12x32__avx512");
    t.f32.tall.narrow = make_ukernel<F32x16, 12, 1>(144, 512, 1024, "f32_gemm_ukernel_12x16__avx512");
    t.f32.short_rows.main = make_ukernel<F32x16, 8, 2>(128, 512, 1024, "f32_gemm_ukernel_8x32__avx512");
    t.f32.short_rows.narrow = make_ukernel<F32x16, 8, 1>(128, 512, 1024, "f32_gemm_ukernel_8x16__avx512");
    t.f64.tall.main = make_ukernel<F64x8, 12, 2>(144, 256, 1024, "f64_gemm_ukernel_12x16__avx512");
    t.f64.tall.narrow = make_ukernel<F64x8, 12, 1>(144, 256, 1024, "f64_gemm_ukernel_12x8__avx512");
    t.f64.short_rows.main = make_ukernel<F64x8, 8, 2>(128, 256, 1024, "f64_gemm_ukernel_8x16__avx512");
    t.f64.short_rows.narrow = make_ukernel<F64x8, 8, 1>(128, 256, 1024, "f64_gemm_ukernel_8x8__avx512");
    return t;
}

}  // namespace pydl::gemm::avx512
