// Per-row loss kernels behind nn/loss.h (internal to the losses area).
//
// Each kernel is serial and handles one row of n values: it returns the row's
// loss l (mean over the row, or sum over classes, in double) and, when g is not
// null, writes d(k * l)/d(x) into g, where k = w_r / rows is the row's share of
// the returned loss. g may be the same array as x: every kernel reads x[c]
// before it writes g[c] and never reads x[c] again after that.
//
// The kinds that need exp or log are structs in three steps, so that the
// transcendental functions run once over a whole block of rows through
// nn/vmath.h (vectorized for float32) instead of once per short row:
//   fill(x, n, b0, b1)        per row: the arguments of exp/log into b0 (b1)
//   transform(b0, b1, len)    per block: exp/log in place
//   row(target, x, g, n, k, b0, b1)   per row: loss and gradient
//
// Element terms are computed in T, as Keras computes them in the dtype of the
// predictions; sums are accumulated in double. Comparisons are written so that
// NaN propagates (a NaN never selects a clip bound or a branch that drops it).
#pragma once

#include <cmath>
#include <cstddef>

#include "nn/vmath.h"

namespace pydl::nn::loss_rows {

// Keras' backend.epsilon(); probabilities are clipped to [eps, 1 - eps].
inline constexpr double kEpsilon = 1e-7;

template <class T>
struct ProbabilityClip {
    // 1 - eps is formed in double and rounded once, as Keras does.
    T lo = static_cast<T>(kEpsilon);
    T hi = static_cast<T>(1.0 - kEpsilon);
    T operator()(T p) const { return p < lo ? lo : (p > hi ? hi : p); }
    // The clip passes the gradient inside [lo, hi] (and for NaN), zero outside.
    bool passes(T p) const { return !(p < lo) && !(p > hi); }
};

// -1, 0 (with the sign of v) or 1; NaN stays NaN.
template <class T>
inline T sign_of(T v) {
    return v > T(0) ? T(1) : (v < T(0) ? T(-1) : v);
}

// mean((x - t)^2); g = 2 (x - t) k / n
template <class T>
double mse(const T* t, const T* x, T* g, std::ptrdiff_t n, double k) {
    double s = 0.0;
    const T gk = static_cast<T>(2.0 * k / static_cast<double>(n));
    for (std::ptrdiff_t c = 0; c < n; ++c) {
        const T e = x[c] - t[c];
        s += static_cast<double>(e) * static_cast<double>(e);
        if (g) g[c] = e * gk;
    }
    return s / static_cast<double>(n);
}

// mean(|x - t|); g = sign(x - t) k / n (0 where x == t)
template <class T>
double mae(const T* t, const T* x, T* g, std::ptrdiff_t n, double k) {
    double s = 0.0;
    const T gk = static_cast<T>(k / static_cast<double>(n));
    for (std::ptrdiff_t c = 0; c < n; ++c) {
        const T e = x[c] - t[c];
        s += static_cast<double>(std::fabs(e));
        if (g) g[c] = sign_of(e) * gk;
    }
    return s / static_cast<double>(n);
}

// mean(|e| <= d ? e^2 / 2 : d |e| - d^2 / 2) with e = x - t;
// g = (|e| <= d ? e : d sign(e)) k / n
template <class T>
double huber(const T* t, const T* x, T* g, std::ptrdiff_t n, double k, double delta) {
    double s = 0.0;
    const T d = static_cast<T>(delta);
    const double dd = static_cast<double>(d);
    const T gk = static_cast<T>(k / static_cast<double>(n));
    for (std::ptrdiff_t c = 0; c < n; ++c) {
        const T e = x[c] - t[c];
        const T a = std::fabs(e);
        const double ed = static_cast<double>(e);
        if (a <= d) {
            s += 0.5 * ed * ed;
            if (g) g[c] = e * gk;
        } else {  // also NaN
            s += dd * static_cast<double>(a) - 0.5 * dd * dd;
            if (g) g[c] = d * sign_of(e) * gk;
        }
    }
    return s / static_cast<double>(n);
}

// sum of v[0..n) in double, in four interleaved lanes (a fixed order).
template <class T>
double sum_in_double(const T* v, std::ptrdiff_t n) {
    double lane[4] = {0.0, 0.0, 0.0, 0.0};
    std::ptrdiff_t i = 0;
    for (; i + 4 <= n; i += 4) {
        for (int j = 0; j < 4; ++j) lane[j] += static_cast<double>(v[i + j]);
    }
    for (int j = 0; i < n; ++i, ++j) lane[j] += static_cast<double>(v[i]);
    return (lane[0] + lane[1]) + (lane[2] + lane[3]);
}

// Largest value of the row (NaN when x[0] is NaN; a later NaN reaches the
// result through exp anyway).
template <class T>
T row_max(const T* x, std::ptrdiff_t n) {
    T m = x[0];
    for (std::ptrdiff_t c = 1; c < n; ++c) m = x[c] > m ? x[c] : m;
    return m;
}

// mean(-(t log p + (1 - t) log(1 - p))) with p clipped; g = 0 where clipped.
// b0 = log(clip(p)), b1 = log(1 - clip(p)).
template <class T>
struct BinaryCrossentropy {
    static constexpr int kBuffers = 2;
    static void fill(const T* x, std::ptrdiff_t n, T* b0, T* b1) {
        const ProbabilityClip<T> clip;
        for (std::ptrdiff_t c = 0; c < n; ++c) {
            b0[c] = clip(x[c]);
            b1[c] = T(1) - b0[c];
        }
    }
    static void transform(T* b0, T* b1, std::ptrdiff_t len) {
        vmath::log(b0, b0, len);
        vmath::log(b1, b1, len);
    }
    static double row(const T* t, const T* x, T* g, std::ptrdiff_t n, double k, const T* log_p,
                      const T* log_q) {
        const ProbabilityClip<T> clip;
        double s = 0.0;
        const T gk = static_cast<T>(k / static_cast<double>(n));
        for (std::ptrdiff_t c = 0; c < n; ++c) {
            const T p = x[c];
            const T pc = clip(p);
            const T tc = t[c];
            s -= static_cast<double>(tc) * static_cast<double>(log_p[c]) +
                 static_cast<double>(T(1) - tc) * static_cast<double>(log_q[c]);
            if (g) g[c] = clip.passes(p) ? ((T(1) - tc) / (T(1) - pc) - tc / pc) * gk : T(0);
        }
        return s / static_cast<double>(n);
    }
};

// mean(max(x, 0) - x t + log1p(exp(-|x|))); g = (sigmoid(x) - t) k / n.
// b0 = e = exp(-|x|) (in (0, 1]: never overflows), b1 = log(1 + e).
template <class T>
struct BinaryCrossentropyLogits {
    static constexpr int kBuffers = 2;
    static void fill(const T* x, std::ptrdiff_t n, T* b0, T*) {
        for (std::ptrdiff_t c = 0; c < n; ++c) b0[c] = -std::fabs(x[c]);
    }
    static void transform(T* b0, T* b1, std::ptrdiff_t len) {
        vmath::exp(b0, b0, len);
        for (std::ptrdiff_t i = 0; i < len; ++i) b1[i] = T(1) + b0[i];
        vmath::log(b1, b1, len);
    }
    static double row(const T* t, const T* x, T* g, std::ptrdiff_t n, double k, const T* e,
                      const T* log_u) {
        double s = 0.0;
        const T gk = static_cast<T>(k / static_cast<double>(n));
        for (std::ptrdiff_t c = 0; c < n; ++c) {
            const T v = x[c];
            const T tc = t[c];
            // log1p(e) from log(u), u = 1 + e, exact to a few ulp even when u
            // rounds to 1 (Goldberg): log(u) * e / (u - 1).
            const T u = T(1) + e[c];
            const T log1p_e = u == T(1) ? e[c] : log_u[c] * (e[c] / (u - T(1)));
            s += static_cast<double>(v > T(0) ? v : T(0)) -
                 static_cast<double>(v) * static_cast<double>(tc) + static_cast<double>(log1p_e);
            if (g) {
                const T sigmoid = (v >= T(0) ? T(1) : e[c]) / u;
                g[c] = (sigmoid - tc) * gk;
            }
        }
        return s / static_cast<double>(n);
    }
};

// b0 = exp(x - max(x)): the softmax numerators, shared by both logits kinds.
template <class T>
struct ShiftedExp {
    static constexpr int kBuffers = 1;
    static void fill(const T* x, std::ptrdiff_t n, T* b0, T*) {
        const T m = row_max(x, n);
        for (std::ptrdiff_t c = 0; c < n; ++c) b0[c] = x[c] - m;
    }
    static void transform(T* b0, T*, std::ptrdiff_t len) { vmath::exp(b0, b0, len); }
};

// sum_c t_c (lse - x_c) with lse = log(sum_c exp(x_c)); g = (softmax(x) sum(t) - t) k
template <class T>
struct CategoricalCrossentropyLogits : ShiftedExp<T> {
    static double row(const T* t, const T* x, T* g, std::ptrdiff_t n, double k, const T* e,
                      const T*) {
        const double m = static_cast<double>(row_max(x, n));
        double sum_t = 0.0, sum_t_gap = 0.0;
        for (std::ptrdiff_t c = 0; c < n; ++c) {
            const double tc = static_cast<double>(t[c]);
            sum_t += tc;
            sum_t_gap += tc * (m - static_cast<double>(x[c]));  // >= 0 terms: no cancellation
        }
        const double sum_exp = sum_in_double(e, n);
        if (g) {
            const T scale = static_cast<T>(sum_t / sum_exp);
            const T gk = static_cast<T>(k);
            for (std::ptrdiff_t c = 0; c < n; ++c) g[c] = (e[c] * scale - t[c]) * gk;
        }
        return sum_t_gap + sum_t * std::log(sum_exp);
    }
};

// Sparse targets from logits: the categorical kernel with t = one_hot(label).
// An invalid label gives a NaN loss and gradient row.
template <class T>
struct SparseCategoricalCrossentropyLogits : ShiftedExp<T> {
    static double row(std::ptrdiff_t label, const T* x, T* g, std::ptrdiff_t n, double k,
                      const T* e, const T*) {
        if (label < 0 || label >= n) {
            if (g) for (std::ptrdiff_t c = 0; c < n; ++c) g[c] = static_cast<T>(NAN);
            return NAN;
        }
        const T gap = row_max(x, n) - x[label];  // read before g (possibly x) is written
        const double sum_exp = sum_in_double(e, n);
        if (g) {
            const T inv = static_cast<T>(1.0 / sum_exp);
            const T gk = static_cast<T>(k);
            for (std::ptrdiff_t c = 0; c < n; ++c) g[c] = e[c] * inv * gk;
            g[label] = (e[label] * inv - T(1)) * gk;
        }
        return static_cast<double>(gap) + std::log(sum_exp);
    }
};

// With q = x / sum(x) clipped: -sum_c t_c log q_c. The gradient goes through the
// clip (mask) and the normalization: dl/dx_j = (G_j - sum_k G_k q_k) / sum(x)
// with G_k = -t_k / q_k where the clip passes, else 0. b0 = log(clip(q)).
template <class T>
struct CategoricalCrossentropy {
    static constexpr int kBuffers = 1;
    static void fill(const T* x, std::ptrdiff_t n, T* b0, T*) {
        const ProbabilityClip<T> clip;
        const T sum = static_cast<T>(sum_in_double(x, n));
        for (std::ptrdiff_t c = 0; c < n; ++c) b0[c] = clip(x[c] / sum);
    }
    static void transform(T* b0, T*, std::ptrdiff_t len) { vmath::log(b0, b0, len); }
    static double row(const T* t, const T* x, T* g, std::ptrdiff_t n, double k, const T* log_q,
                      const T*) {
        double l = 0.0;
        for (std::ptrdiff_t c = 0; c < n; ++c) {
            l -= static_cast<double>(t[c]) * static_cast<double>(log_q[c]);
        }
        if (g) {
            const ProbabilityClip<T> clip;
            const double sum = sum_in_double(x, n);
            const T sum_t = static_cast<T>(sum);
            double g_dot_q = 0.0;
            for (std::ptrdiff_t c = 0; c < n; ++c) {
                const T q = x[c] / sum_t;
                if (clip.passes(q)) g_dot_q -= static_cast<double>(t[c] / clip(q)) * static_cast<double>(q);
            }
            const double scale = k / sum;
            for (std::ptrdiff_t c = 0; c < n; ++c) {
                const T q = x[c] / sum_t;
                const double gc = clip.passes(q) ? -static_cast<double>(t[c] / clip(q)) : 0.0;
                g[c] = static_cast<T>((gc - g_dot_q) * scale);
            }
        }
        return l;
    }
};

// Sparse targets from probabilities: one log per row, no block buffer.
template <class T>
double sparse_categorical_crossentropy(std::ptrdiff_t label, const T* x, T* g, std::ptrdiff_t n,
                                       double k) {
    if (label < 0 || label >= n) {
        if (g) for (std::ptrdiff_t c = 0; c < n; ++c) g[c] = static_cast<T>(NAN);
        return NAN;
    }
    const ProbabilityClip<T> clip;
    const double sum = sum_in_double(x, n);
    const T q = x[label] / static_cast<T>(sum);
    const T qc = clip(q);
    if (g) {
        const double g_label = clip.passes(q) ? -static_cast<double>(T(1) / qc) : 0.0;
        const double g_dot_q = g_label * static_cast<double>(q);
        const double scale = k / sum;
        const T other = static_cast<T>(-g_dot_q * scale);
        for (std::ptrdiff_t c = 0; c < n; ++c) g[c] = other;
        g[label] = static_cast<T>((g_label - g_dot_q) * scale);
    }
    return -static_cast<double>(std::log(qc));
}

}  // namespace pydl::nn::loss_rows
