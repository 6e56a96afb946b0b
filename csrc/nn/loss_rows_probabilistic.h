// Per-row kernels of the Kullback-Leibler divergence and the Poisson loss, as
// Keras 3 writes them (keras/src/losses/losses.py; internal to the losses area,
// the contract of a row kernel is in loss_rows.h). Element terms in T, sums in double.
#pragma once

#include <cmath>
#include <cstddef>

#include "nn/loss_rows.h"

namespace pydl::nn::loss_rows {

// sum(tc log(tc / xc)) with tc = clip(t, eps, 1), xc = clip(x, eps, 1);
// g = -tc / xc k where eps <= x <= 1, else 0
template <class T>
double kl_divergence(const T* t, const T* x, T* g, std::ptrdiff_t n, double k) {
    const T lo = static_cast<T>(kEpsilon);
    auto clip = [lo](T v) { return v < lo ? lo : (v > T(1) ? T(1) : v); };
    const T gk = static_cast<T>(k);
    double s = 0.0;
    for (std::ptrdiff_t c = 0; c < n; ++c) {
        const T p = x[c];
        const T tc = clip(t[c]), pc = clip(p);
        s += static_cast<double>(tc * std::log(tc / pc));
        if (g) g[c] = (p < lo || p > T(1)) ? T(0) : -(tc / pc) * gk;
    }
    return s;
}

// mean(x - t log(x + eps)); g = (1 - t / (x + eps)) k / n
template <class T>
double poisson(const T* t, const T* x, T* g, std::ptrdiff_t n, double k) {
    const T eps = static_cast<T>(kEpsilon);
    const T gk = static_cast<T>(k / static_cast<double>(n));
    double s = 0.0;
    for (std::ptrdiff_t c = 0; c < n; ++c) {
        const T u = x[c] + eps;
        s += static_cast<double>(x[c] - t[c] * std::log(u));
        if (g) g[c] = (T(1) - t[c] / u) * gk;
    }
    return s / static_cast<double>(n);
}

}  // namespace pydl::nn::loss_rows
