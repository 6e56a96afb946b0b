// Per-row kernels of the regression losses added in the second milestone
// (internal to the losses area; the contract of a row kernel is in loss_rows.h):
// mean squared logarithmic error, mean absolute percentage error, log-cosh and
// cosine similarity, as Keras 3 writes them (keras/src/losses/losses.py).
//
// Element terms in T, sums in double. Keras' `ops.maximum(v, eps)` passes the
// gradient where v >= eps (ties included) and its `ops.minimum` where the first
// argument is the smaller or equal one; NaN propagates.
#pragma once

#include <cmath>
#include <cstddef>

#include "nn/loss_rows.h"

namespace pydl::nn::loss_rows {

// max(v, eps) that keeps NaN; its gradient passes where !(v < eps).
template <class T>
inline T floor_at(T v, T eps) {
    return v < eps ? eps : v;
}

// mean((log(max(x, eps) + 1) - log(max(t, eps) + 1))^2);
// g = 2 d / (max(x, eps) + 1) k / n where x >= eps, else 0
template <class T>
double msle(const T* t, const T* x, T* g, std::ptrdiff_t n, double k) {
    const T eps = static_cast<T>(kEpsilon);
    const T gk = static_cast<T>(2.0 * k / static_cast<double>(n));
    double s = 0.0;
    for (std::ptrdiff_t c = 0; c < n; ++c) {
        const T p = x[c];
        const T u = floor_at(p, eps) + T(1);
        const T d = std::log(u) - std::log(floor_at(t[c], eps) + T(1));
        s += static_cast<double>(d) * static_cast<double>(d);
        if (g) g[c] = p < eps ? T(0) : d / u * gk;
    }
    return s / static_cast<double>(n);
}

// 100 mean(|(t - x) / max(|t|, eps)|); g = 100 sign(x - t) / max(|t|, eps) k / n
template <class T>
double mape(const T* t, const T* x, T* g, std::ptrdiff_t n, double k) {
    const T eps = static_cast<T>(kEpsilon);
    const T gk = static_cast<T>(100.0 * k / static_cast<double>(n));
    double s = 0.0;
    for (std::ptrdiff_t c = 0; c < n; ++c) {
        const T den = floor_at(std::fabs(t[c]), eps);
        const T e = t[c] - x[c];
        s += static_cast<double>(std::fabs(e / den));
        if (g) g[c] = -sign_of(e) / den * gk;
    }
    return 100.0 * s / static_cast<double>(n);
}

// mean(e + softplus(-2 e) - log(2)) with e = x - t; g = tanh(e) k / n
template <class T>
double log_cosh(const T* t, const T* x, T* g, std::ptrdiff_t n, double k) {
    const T log2 = static_cast<T>(0.69314718055994530942);
    const T gk = static_cast<T>(k / static_cast<double>(n));
    double s = 0.0;
    for (std::ptrdiff_t c = 0; c < n; ++c) {
        const T e = x[c] - t[c];
        const T z = T(-2) * e;
        const T softplus = std::log1p(std::exp(-std::fabs(z))) + (z > T(0) ? z : T(0));
        s += static_cast<double>(e + softplus - log2);
        if (g) g[c] = std::tanh(e) * gk;
    }
    return s / static_cast<double>(n);
}

// -sum(normalize(t) * normalize(x)) with normalize(v) = v * min(1 / sqrt(sum(v^2)), 1 / eps)
// (Keras' ops.nn.normalize, eps = 1e-7). With q = normalize(x), r = 1 / sqrt(sum(x^2)):
// g = -r (tn - q * sum(tn * q)) k where r <= 1 / eps, else -tn / eps * k.
template <class T>
double cosine_similarity(const T* t, const T* x, T* g, std::ptrdiff_t n, double k) {
    const T cap = static_cast<T>(1.0 / kEpsilon);
    double tt = 0.0, xx = 0.0;
    for (std::ptrdiff_t c = 0; c < n; ++c) {
        tt += static_cast<double>(t[c]) * static_cast<double>(t[c]);
        xx += static_cast<double>(x[c]) * static_cast<double>(x[c]);
    }
    const T rt = static_cast<T>(1.0 / std::sqrt(tt));
    const T rx = static_cast<T>(1.0 / std::sqrt(xx));
    const T st = rt <= cap ? rt : (rt != rt ? rt : cap);
    const bool through = !(rx > cap);  // the clamp passes the gradient (NaN included)
    const T sx = through ? rx : cap;
    double dot = 0.0;
    for (std::ptrdiff_t c = 0; c < n; ++c) {
        dot += static_cast<double>(t[c] * st) * static_cast<double>(x[c] * sx);
    }
    if (g) {
        const T gk = static_cast<T>(k);
        const T d = static_cast<T>(dot);
        for (std::ptrdiff_t c = 0; c < n; ++c) {
            const T tn = t[c] * st;
            g[c] = through ? -(sx * (tn - x[c] * sx * d)) * gk : -(tn * cap) * gk;
        }
    }
    return -dot;
}

}  // namespace pydl::nn::loss_rows
