// The float32 SIMD vector of the AVX2 path: 8 lanes, FMA. Together with
// vmath_vec_avx512.h it is the one interface the templates of vmath_simd.h and
// activation_simd.h are written against, so one template body serves both paths.
//
// Only for `*__avx2.cpp` files. Everything lives in pydl::vmath::avx2 (cpu/isa.h):
// these inline functions and the template instantiations over Vf never meet the
// copies of another path.
//
// min/max follow the x86 rule: when either operand is NaN the second is
// returned, so `max(c, x)` propagates a NaN x.
#pragma once

#include <immintrin.h>

#include <cstddef>

namespace pydl::vmath::avx2 {

struct Vi {
    __m256i v;
    Vi(__m256i x) : v(x) {}
    Vi(int s) : v(_mm256_set1_epi32(s)) {}
};

struct Mask {
    __m256 m;
};

struct Vf {
    static constexpr int kLanes = 8;
    __m256 v;
    Vf() = default;
    Vf(__m256 x) : v(x) {}
    Vf(float s) : v(_mm256_set1_ps(s)) {}

    static Vf load(const float* p) { return _mm256_loadu_ps(p); }
    void store(float* p) const { _mm256_storeu_ps(p, v); }
    // The first n < kLanes lanes from p, the others `fill`; never reads past p[n-1].
    static Vf load_partial(const float* p, std::ptrdiff_t n, float fill) {
        const __m256i m = lane_mask(n);
        return _mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, m),
                                _mm256_castsi256_ps(m));
    }
    void store_partial(float* p, std::ptrdiff_t n) const {
        _mm256_maskstore_ps(p, lane_mask(n), v);
    }
    static __m256i lane_mask(std::ptrdiff_t n) {
        const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), iota);
    }
};

inline Vf operator+(Vf a, Vf b) { return _mm256_add_ps(a.v, b.v); }
inline Vf operator-(Vf a, Vf b) { return _mm256_sub_ps(a.v, b.v); }
inline Vf operator*(Vf a, Vf b) { return _mm256_mul_ps(a.v, b.v); }
inline Vf operator/(Vf a, Vf b) { return _mm256_div_ps(a.v, b.v); }
inline Vf operator-(Vf a) { return _mm256_xor_ps(a.v, _mm256_set1_ps(-0.0f)); }
// a*b + c and c - a*b, rounded once.
inline Vf fmadd(Vf a, Vf b, Vf c) { return _mm256_fmadd_ps(a.v, b.v, c.v); }
inline Vf fnmadd(Vf a, Vf b, Vf c) { return _mm256_fnmadd_ps(a.v, b.v, c.v); }
inline Vf fmsub(Vf a, Vf b, Vf c) { return _mm256_fmsub_ps(a.v, b.v, c.v); }
inline Vf min(Vf a, Vf b) { return _mm256_min_ps(a.v, b.v); }
inline Vf max(Vf a, Vf b) { return _mm256_max_ps(a.v, b.v); }
inline Vf abs(Vf a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a.v); }
// Sign bit of `s` on the magnitude of `a`.
inline Vf copysign(Vf a, Vf s) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    return _mm256_or_ps(_mm256_andnot_ps(sign, a.v), _mm256_and_ps(sign, s.v));
}
inline Vf round_nearest(Vf a) {
    return _mm256_round_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

inline Mask operator<(Vf a, Vf b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_LT_OQ)}; }
inline Mask operator<=(Vf a, Vf b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_LE_OQ)}; }
inline Mask operator>(Vf a, Vf b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_GT_OQ)}; }
inline Mask operator>=(Vf a, Vf b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_GE_OQ)}; }
inline Mask operator==(Vf a, Vf b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_EQ_OQ)}; }
inline Mask is_nan(Vf a) { return {_mm256_cmp_ps(a.v, a.v, _CMP_UNORD_Q)}; }
inline Mask operator|(Mask a, Mask b) { return {_mm256_or_ps(a.m, b.m)}; }
inline Mask operator&(Mask a, Mask b) { return {_mm256_and_ps(a.m, b.m)}; }
// m ? a : b, lane by lane.
inline Vf select(Mask m, Vf a, Vf b) { return _mm256_blendv_ps(b.v, a.v, m.m); }

inline Vi operator+(Vi a, Vi b) { return _mm256_add_epi32(a.v, b.v); }
inline Vi operator-(Vi a, Vi b) { return _mm256_sub_epi32(a.v, b.v); }
inline Vi operator&(Vi a, Vi b) { return _mm256_and_si256(a.v, b.v); }
inline Vi shift_left(Vi a, int n) { return _mm256_slli_epi32(a.v, n); }
inline Vi shift_right_arithmetic(Vi a, int n) { return _mm256_srai_epi32(a.v, n); }
inline Vi bits_of(Vf a) { return _mm256_castps_si256(a.v); }
inline Vf float_from_bits(Vi a) { return _mm256_castsi256_ps(a.v); }
// Exact for integral values (truncates).
inline Vi to_int(Vf a) { return _mm256_cvttps_epi32(a.v); }
inline Vf to_float(Vi a) { return _mm256_cvtepi32_ps(a.v); }

// Horizontal reductions in a fixed order (deterministic).
inline float reduce_add(Vf a) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a.v), _mm256_extractf128_ps(a.v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
inline float reduce_max(Vf a) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(a.v), _mm256_extractf128_ps(a.v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

}  // namespace pydl::vmath::avx2
