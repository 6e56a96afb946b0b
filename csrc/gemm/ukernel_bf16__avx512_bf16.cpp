// bfloat16 microkernels (gemm/bf16.h) on AVX512_BF16: gemm/ukernel_simd.h's tile
// with VDPBF16PS as the multiply-add. A 12 x 32 tile of float32 accumulators (24
// zmm), two zmm of B pairs and a broadcast A pair; each VDPBF16PS does 32
// multiply-adds, twice an FMA's 16. The narrow kernel (12 x 16) takes the last
// few columns. Packing rounds the float32 operands (gemm/pack_bf16__avx512_bf16.cpp).
#include <immintrin.h>

#include <cstdint>

#include "gemm/pack_bf16.h"
#include "gemm/ukernel.h"
#include "gemm/ukernel_simd.h"

namespace pydl::gemm::avx512_bf16 {
namespace {

__mmask16 first_lanes(int n) {
    if (n >= 16) return static_cast<__mmask16>(0xffff);
    return n <= 0 ? __mmask16(0) : static_cast<__mmask16>((1u << n) - 1u);
}

struct Bf16PairsToF32x16 {
    using T = float;
    using reg = __m512;
    static constexpr int width = 16;
    static reg loadu(const T* p) { return _mm512_loadu_ps(p); }
    static void storeu(T* p, reg v) { _mm512_storeu_ps(p, v); }
    static reg loadu_first(const T* p, int n) { return _mm512_maskz_loadu_ps(first_lanes(n), p); }
    static void storeu_first(T* p, reg v, int n) { _mm512_mask_storeu_ps(p, first_lanes(n), v); }
    static reg zero() { return _mm512_setzero_ps(); }

    using P = std::uint32_t;  // one pair of bfloat16 values
    using preg = __m512bh;
    static preg load_packed(const P* p) {
        return reinterpret_cast<__m512bh>(_mm512_loadu_si512(p));
    }
    static preg broadcast_packed(const P* p) {
        return reinterpret_cast<__m512bh>(_mm512_set1_epi32(static_cast<int>(*p)));
    }
    static reg madd(preg a, preg b, reg acc) { return _mm512_dpbf16_ps(acc, a, b); }
};

}  // namespace

Bf16Kernels bf16_kernels() {
    // make_ukernel<V, MR, vectors per row>(mc, kc (floats of K), nc, name)
    Bf16Kernels k;
    using V = Bf16PairsToF32x16;
    k.set.main = make_ukernel<V, 12, 2>(144, 1024, 1024,
                                        "bf16_f32_gemm_ukernel_12x32__avx512_bf16");
    k.set.narrow = make_ukernel<V, 12, 1>(144, 1024, 1024,
                                          "bf16_f32_gemm_ukernel_12x16__avx512_bf16");
    k.pack_a = pack_a;
    k.pack_b = pack_b;
    return k;
}

}  // namespace pydl::gemm::avx512_bf16
