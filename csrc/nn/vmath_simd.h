// float32 exp, log, tanh and the pieces the activations need (expm1, log1p,
// erfc, sigmoid), written once over a SIMD vector type V (vmath_vec_avx2.h,
// vmath_vec_avx512.h) and expanded per path in the `*__avx2.cpp` /
// `*__avx512.cpp` files.
//
// Method: Cody-Waite range reduction and short polynomials (Cephes' for exp, log
// and small tanh; a refitted one for erfc), evaluated with FMA. Edges
// are the C library's: exp overflows to inf above ln(FLT_MAX) and goes through
// the subnormals to 0; log(0) = -inf, log(x<0) = NaN; NaN in, NaN out.
//
// Everything here is a template on V, so each path's instantiations are its own
// symbols (cpu/isa.h); nothing non-template may be added to this file.
#pragma once

#include <cstddef>

// The math functions are forced inline into the loops that call them, so each
// loop is one straight-line vector body (GCC otherwise calls exp out of line).
#define PYDL_VMATH_INLINE inline __attribute__((always_inline))

namespace pydl::vmath::simd {

constexpr float kLog2e = 1.44269504088896341f;
// ln 2 = kLn2Hi + kLn2Lo; kLn2Hi has 9 significant bits, so n * kLn2Hi is exact.
constexpr float kLn2Hi = 0.693359375f;
constexpr float kLn2Lo = -2.12194440e-4f;
constexpr float kInf = __builtin_inff();

// exp(r) - 1 - r = r^2 * P(r) on |r| <= ln2/2 (Cephes expf).
template <class V>
PYDL_VMATH_INLINE V expm1_reduced(V r) {
    V p = fmadd(V(1.9875691500e-4f), r, V(1.3981999507e-3f));
    p = fmadd(p, r, V(8.3334519073e-3f));
    p = fmadd(p, r, V(4.1665795894e-2f));
    p = fmadd(p, r, V(1.6666665459e-1f));
    p = fmadd(p, r, V(5.0000001201e-1f));
    return fmadd(p, r * r, r);
}

// 2^n for integral n in [-126, 127].
template <class V, class I>
PYDL_VMATH_INLINE V pow2(I n) {
    return float_from_bits(shift_left(n + I(127), 23));
}

// exp(x + lo) = y * s1 * s2, kept apart so that a caller can multiply by a
// factor f before the power-of-two scaling: f * exp(x) then rounds once, even
// when it is subnormal (scaled(f), for |f| < 2^60). lo is a correction smaller
// than ~2 that x cannot carry (e.g. the low part of an exactly split -z^2).
template <class V>
struct ExpParts {
    V y, s1, s2;
    V value() const { return y * s1 * s2; }
    V scaled(V f) const { return (y * f) * s1 * s2; }
};

// Exact at the edges: the clamp keeps 2^n representable as two factors, and the
// result overflows or underflows (through the subnormals, rounded once) as the
// true value does. kLos = how many of lo, lo2 to add (0, 1 or 2): exp(x + lo + lo2).
template <class V, int kLos>
PYDL_VMATH_INLINE ExpParts<V> exp_parts(V x, V lo, V lo2) {
    // Above 89 exp is inf in float; below -150 it is 0 even times 2^60. NaN passes
    // (second operand).
    const V hi = min(V(89.0f), max(V(-150.0f), x));
    const V n = round_nearest((kLos > 0 ? hi + lo : hi) * V(kLog2e));
    V r = fnmadd(n, V(kLn2Hi), hi);  // exact
    if (kLos > 0) r = r + lo;
    if (kLos > 1) r = r + lo2;
    r = fnmadd(n, V(kLn2Lo), r);
    const auto ni = to_int(n);
    const auto n1 = shift_right_arithmetic(ni, 1);  // n = n1 + n2, both in [-109, 64]
    return {expm1_reduced(r) + V(1.0f), pow2<V>(n1), pow2<V>(ni - n1)};
}

template <class V>
PYDL_VMATH_INLINE V exp(V x) {
    return exp_parts<V, 0>(x, V(0.0f), V(0.0f)).value();
}

// expm1(x) for x <= 0 (or NaN): 2^n * expm1(r) + (2^n - 1), exact in its last
// step for n >= -24 and -1 to float precision below that.
template <class V>
PYDL_VMATH_INLINE V expm1_nonpositive(V x) {
    x = max(V(-87.0f), x);  // expm1(-87) rounds to -1; keeps 2^n normal
    const V n = round_nearest(x * V(kLog2e));
    V r = fnmadd(n, V(kLn2Hi), x);
    r = fnmadd(n, V(kLn2Lo), r);
    const V s = pow2<V>(to_int(n));
    return fmadd(s, expm1_reduced(r), s - V(1.0f));
}

// log(x) for normal positive x: x = 2^k * m with m in [sqrt(2)/2, sqrt(2)),
// f = m - 1, log(x) = k ln2 + f - f^2/2 + f^3 P(f) (Cephes logf's polynomial;
// no division).
template <class V>
PYDL_VMATH_INLINE V log_normal(V x, V k_offset) {
    using I = decltype(bits_of(x));
    I ix = bits_of(x) + I(0x3f800000 - 0x3f3504f3);
    const I k = shift_right_arithmetic(ix, 23) - I(0x7f);
    ix = (ix & I(0x007fffff)) + I(0x3f3504f3);
    const V f = float_from_bits(ix) - V(1.0f);
    const V z = f * f;
    V p = fmadd(V(7.0376836292e-2f), f, V(-1.1514610310e-1f));
    p = fmadd(p, f, V(1.1676998740e-1f));
    p = fmadd(p, f, V(-1.2420140846e-1f));
    p = fmadd(p, f, V(1.4249322787e-1f));
    p = fmadd(p, f, V(-1.6668057665e-1f));
    p = fmadd(p, f, V(2.0000714765e-1f));
    p = fmadd(p, f, V(-2.4999993993e-1f));
    p = fmadd(p, f, V(3.3333331174e-1f));
    const V dk = to_float(k) + k_offset;
    V y = fmadd(p * z, f, dk * V(kLn2Lo));
    y = fnmadd(V(0.5f), z, y);
    return fmadd(dk, V(kLn2Hi), f + y);
}

template <class V>
PYDL_VMATH_INLINE V log(V x) {
    // Subnormals are scaled by 2^23 into the normal range first.
    const auto tiny = x < V(1.17549435e-38f);
    const V r = log_normal(select(tiny, x * V(8388608.0f), x),
                           select(tiny, V(-23.0f), V(0.0f)));
    V out = select(x < V(0.0f), V(__builtin_nanf("")), r);
    out = select(x == V(0.0f), V(-kInf), out);
    out = select(x == V(kInf), V(kInf), out);
    return select(is_nan(x), x + x, out);  // x + x: quiet, as libm's
}

// log1p(u) for u in [0, 1]: log(1 + u) plus the part of u that 1 + u rounded
// away, so that tiny u give u.
template <class V>
PYDL_VMATH_INLINE V log1p_unit(V u) {
    const V w = u + V(1.0f);
    return log_normal(w, V(0.0f)) + (u - (w - V(1.0f))) / w;
}

// tanh: an odd polynomial below 0.625 (Cephes tanhf), 1 - 2 / (exp(2|x|) + 1)
// above it (which reaches 1 exactly when exp overflows).
template <class V>
PYDL_VMATH_INLINE V tanh(V x) {
    const V a = abs(x);
    const V z = x * x;
    V p = fmadd(V(-5.70498872745e-3f), z, V(2.06390887954e-2f));
    p = fmadd(p, z, V(-5.37397155531e-2f));
    p = fmadd(p, z, V(1.33314422036e-1f));
    p = fmadd(p, z, V(-3.33332819422e-1f));
    const V small = fmadd(p * z, a, a);
    const V large = V(1.0f) - V(2.0f) / (exp(a + a) + V(1.0f));
    return copysign(select(a < V(0.625f), small, large), x);  // odd; tanh(-0) = -0
}

// 1 / (1 + exp(-x)) from q = sigmoid(-|x|) = e / (1 + e), e = exp(-|x|) <= 1:
// never overflows; 1 - q for x >= 0 rounds once, so the result reaches 1 exactly
// where the true value rounds to 1 (x > 17.33), and 0 through the subnormals.
template <class V>
PYDL_VMATH_INLINE V sigmoid(V x) {
    const V e = exp(-abs(x));
    const V q = e / (V(1.0f) + e);
    return select(x >= V(0.0f), V(1.0f) - q, q);
}

// x * sigmoid(x). w = x * e / (1 + e) with x folded in before exp's scaling, so
// that x * e stays accurate where e alone would be subnormal (x < -87). Below
// -150 the result is -0 (x capped there); silu(inf) = inf, silu(-inf) = NaN (x * 0).
template <class V>
PYDL_VMATH_INLINE V silu(V x) {
    const V xc = max(V(-150.0f), x);
    const ExpParts<V> e = exp_parts<V, 0>(-abs(xc), V(0.0f), V(0.0f));
    const V w = e.scaled(xc) / (V(1.0f) + e.value());
    const V r = select(xc >= V(0.0f), xc - w, w);
    return select(abs(x) == V(kInf), x * select(x > V(0.0f), V(1.0f), V(0.0f)), r);
}

// f * erfc(a) for 0 <= a <= 10.7, given a^2 = sq_hi + sq_lo exactly (rounding
// a^2 would cost ~2a^2 ulp through the exponential). The form of Numerical
// Recipes' erfcc, erfc(a) = t * exp(-a^2 + g(t)) with t = 1 / (1 + a/2), with g
// refitted for this range: a degree-10 polynomial in u = 2.375 t - 1.375 (t
// mapped onto [-1, 1]), least squares on Chebyshev nodes against mpmath, the
// constant term kept as hi + lo, |error| < 8.6e-9 with float coefficients.
// t is carried as t + t_lo: its rounding would otherwise cost ~2 ulp.
template <class V>
PYDL_VMATH_INLINE V erfc_nonnegative_times(V a, V sq_hi, V sq_lo, V f) {
    const V one(1.0f);
    const V d = fmadd(V(0.5f), a, one);
    const V d_lo = fmadd(V(0.5f), a, one - d);  // d + d_lo = 1 + a/2 exactly
    const V t = one / d;
    const V t_lo = t * fnmadd(d_lo, t, fnmadd(d, t, one));  // t + t_lo = 1/(d + d_lo)
    const V u = fmadd(V(2.375f), t_lo, fmadd(V(2.375f), t, V(-1.375f)));
    V g = fmadd(V(-2.432490692e-05f), u, V(6.231651787e-05f));
    g = fmadd(g, u, V(1.331148378e-04f));
    g = fmadd(g, u, V(-5.852747126e-04f));
    g = fmadd(g, u, V(-2.497331880e-04f));
    g = fmadd(g, u, V(3.923008684e-03f));
    g = fmadd(g, u, V(-1.294752117e-03f));
    g = fmadd(g, u, V(-3.036094271e-02f));
    g = fmadd(g, u, V(1.702793501e-02f));
    g = fmadd(g, u, V(5.759654641e-01f));
    g = fmadd(g, u, V(-5.645968318e-01f));
    return exp_parts<V, 2>(-sq_hi, g, V(2.344660288e-08f) - sq_lo).scaled(fmadd(f, t, f * t_lo));
}

// x clamped to [-15, 15] (beyond, Phi(x) is 0 or 1 in float, and x^2 stays
// finite) and x^2 = sq + sq_lo exactly; NaN passes.
template <class V>
struct Square {
    V xc, sq, sq_lo;
    explicit Square(V x) : xc(min(V(15.0f), max(V(-15.0f), x))), sq(xc * xc),
                           sq_lo(fmsub(xc, xc, sq)) {}
};

// f * Phi(-|x|) = f * erfc(|x| / sqrt 2) / 2, Phi the standard normal CDF.
template <class V>
PYDL_VMATH_INLINE V normal_tail_times(const Square<V>& s, V f) {
    return erfc_nonnegative_times(abs(s.xc) * V(0.70710678118654752f), V(0.5f) * s.sq,
                                  V(0.5f) * s.sq_lo, V(0.5f) * f);
}

// gelu(x) = x * Phi(x): w = x * Phi(-|x|); x - w for x >= 0. At -inf NaN, as x * 0.
template <class V>
PYDL_VMATH_INLINE V gelu(V x) {
    const Square<V> s(x);
    const V w = normal_tail_times(s, s.xc);
    const V r = select(x < V(0.0f), w, x - w);
    return select(x == V(-kInf), x * V(0.0f), r);
}

// gelu'(x) = Phi(x) + x * phi(x), phi(x) = exp(-x^2 / 2) / sqrt(2 pi).
template <class V>
PYDL_VMATH_INLINE V gelu_derivative(V x) {
    const Square<V> s(x);
    const V tail = normal_tail_times(s, V(1.0f));
    const V cdf = select(x < V(0.0f), tail, V(1.0f) - tail);
    const V x_pdf = exp_parts<V, 1>(V(-0.5f) * s.sq, V(-0.5f) * s.sq_lo, V(0.0f))
                        .scaled(s.xc * V(0.39894228040143267794f));
    return cdf + x_pdf;
}

// out[i] = f(x[i]); the tail is done with masked loads and stores, and every lane
// is computed the same way, so a value never depends on where a range starts.
template <class V, class F>
inline void map(const float* x, float* out, std::ptrdiff_t n, F f) {
    std::ptrdiff_t i = 0;
    for (; i + V::kLanes <= n; i += V::kLanes) f(V::load(x + i)).store(out + i);
    if (i < n) f(V::load_partial(x + i, n - i, 0.0f)).store_partial(out + i, n - i);
}

// out[i] = f(a[i], b[i]).
template <class V, class F>
inline void map2(const float* a, const float* b, float* out, std::ptrdiff_t n, F f) {
    std::ptrdiff_t i = 0;
    for (; i + V::kLanes <= n; i += V::kLanes) f(V::load(a + i), V::load(b + i)).store(out + i);
    if (i < n) {
        f(V::load_partial(a + i, n - i, 0.0f), V::load_partial(b + i, n - i, 0.0f))
            .store_partial(out + i, n - i);
    }
}

template <class V>
void exp_array(const float* x, float* out, std::ptrdiff_t n) {
    map<V>(x, out, n, [](V v) { return exp(v); });
}
template <class V>
void log_array(const float* x, float* out, std::ptrdiff_t n) {
    map<V>(x, out, n, [](V v) { return log(v); });
}
template <class V>
void tanh_array(const float* x, float* out, std::ptrdiff_t n) {
    map<V>(x, out, n, [](V v) { return tanh(v); });
}

}  // namespace pydl::vmath::simd
