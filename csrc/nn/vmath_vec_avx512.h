// The float32 SIMD vector of the AVX-512 path: 16 lanes, opmask registers.
// Same interface as vmath_vec_avx2.h (see there); only for `*__avx512.cpp` files,
// everything in pydl::vmath::avx512.
#pragma once

#include <immintrin.h>

#include <cstddef>

namespace pydl::vmath::avx512 {

struct Vi {
    __m512i v;
    Vi(__m512i x) : v(x) {}
    Vi(int s) : v(_mm512_set1_epi32(s)) {}
};

struct Mask {
    __mmask16 m;
};

struct Vf {
    static constexpr int kLanes = 16;
    __m512 v;
    Vf() = default;
    Vf(__m512 x) : v(x) {}
    Vf(float s) : v(_mm512_set1_ps(s)) {}

    static Vf load(const float* p) { return _mm512_loadu_ps(p); }
    void store(float* p) const { _mm512_storeu_ps(p, v); }
    // The first n < kLanes lanes from p, the others `fill`; masked lanes are not read.
    static Vf load_partial(const float* p, std::ptrdiff_t n, float fill) {
        return _mm512_mask_loadu_ps(_mm512_set1_ps(fill), lane_mask(n), p);
    }
    void store_partial(float* p, std::ptrdiff_t n) const {
        _mm512_mask_storeu_ps(p, lane_mask(n), v);
    }
    static __mmask16 lane_mask(std::ptrdiff_t n) {
        return static_cast<__mmask16>((1u << static_cast<unsigned>(n)) - 1u);
    }
};

inline Vf operator+(Vf a, Vf b) { return _mm512_add_ps(a.v, b.v); }
inline Vf operator-(Vf a, Vf b) { return _mm512_sub_ps(a.v, b.v); }
inline Vf operator*(Vf a, Vf b) { return _mm512_mul_ps(a.v, b.v); }
inline Vf operator/(Vf a, Vf b) { return _mm512_div_ps(a.v, b.v); }
inline Vf operator-(Vf a) { return _mm512_xor_ps(a.v, _mm512_set1_ps(-0.0f)); }
inline Vf fmadd(Vf a, Vf b, Vf c) { return _mm512_fmadd_ps(a.v, b.v, c.v); }
inline Vf fnmadd(Vf a, Vf b, Vf c) { return _mm512_fnmadd_ps(a.v, b.v, c.v); }
inline Vf fmsub(Vf a, Vf b, Vf c) { return _mm512_fmsub_ps(a.v, b.v, c.v); }
inline Vf min(Vf a, Vf b) { return _mm512_min_ps(a.v, b.v); }
inline Vf max(Vf a, Vf b) { return _mm512_max_ps(a.v, b.v); }
inline Vf abs(Vf a) { return _mm512_andnot_ps(_mm512_set1_ps(-0.0f), a.v); }
inline Vf copysign(Vf a, Vf s) {
    const __m512 sign = _mm512_set1_ps(-0.0f);
    return _mm512_or_ps(_mm512_andnot_ps(sign, a.v), _mm512_and_ps(sign, s.v));
}
inline Vf round_nearest(Vf a) {
    return _mm512_roundscale_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

inline Mask operator<(Vf a, Vf b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_LT_OQ)}; }
inline Mask operator<=(Vf a, Vf b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_LE_OQ)}; }
inline Mask operator>(Vf a, Vf b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_GT_OQ)}; }
inline Mask operator>=(Vf a, Vf b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_GE_OQ)}; }
inline Mask operator==(Vf a, Vf b) { return {_mm512_cmp_ps_mask(a.v, b.v, _CMP_EQ_OQ)}; }
inline Mask is_nan(Vf a) { return {_mm512_cmp_ps_mask(a.v, a.v, _CMP_UNORD_Q)}; }
inline Mask operator|(Mask a, Mask b) { return {static_cast<__mmask16>(a.m | b.m)}; }
inline Mask operator&(Mask a, Mask b) { return {static_cast<__mmask16>(a.m & b.m)}; }
inline Vf select(Mask m, Vf a, Vf b) { return _mm512_mask_blend_ps(m.m, b.v, a.v); }

inline Vi operator+(Vi a, Vi b) { return _mm512_add_epi32(a.v, b.v); }
inline Vi operator-(Vi a, Vi b) { return _mm512_sub_epi32(a.v, b.v); }
inline Vi operator&(Vi a, Vi b) { return _mm512_and_si512(a.v, b.v); }
inline Vi shift_left(Vi a, int n) { return _mm512_slli_epi32(a.v, static_cast<unsigned>(n)); }
inline Vi shift_right_arithmetic(Vi a, int n) {
    return _mm512_srai_epi32(a.v, static_cast<unsigned>(n));
}
inline Vi bits_of(Vf a) { return _mm512_castps_si512(a.v); }
inline Vf float_from_bits(Vi a) { return _mm512_castsi512_ps(a.v); }
inline Vi to_int(Vf a) { return _mm512_cvttps_epi32(a.v); }
inline Vf to_float(Vi a) { return _mm512_cvtepi32_ps(a.v); }

// Horizontal reductions in a fixed order (deterministic).
inline float reduce_add(Vf a) {
    const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(a.v),
                                   _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a.v), 1)));
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
inline float reduce_max(Vf a) {
    const __m256 h = _mm256_max_ps(_mm512_castps512_ps256(a.v),
                                   _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a.v), 1)));
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

}  // namespace pydl::vmath::avx512
