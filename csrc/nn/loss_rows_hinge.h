// Per-row kernels of the hinge losses, as Keras 3 writes them
// (keras/src/losses/losses.py; internal to the losses area, the contract of a row
// kernel is in loss_rows.h). Element terms in T, sums in double.
//
// hinge / squared_hinge first map binary targets to -1 / 1 (t' = 2 t - 1) when every
// target of the whole batch is 0 or 1 (Keras' convert_binary_labels_to_hinge):
// `binary` is that batch-wide fact (see all_binary). Keras' maximum(a, 0) passes the
// gradient to a where a >= 0.
#pragma once

#include <cstddef>

#include "nn/loss_rows.h"

namespace pydl::nn::loss_rows {

// True when every one of the n values is 0 or 1.
template <class T>
bool all_binary(const T* t, std::ptrdiff_t n) {
    for (std::ptrdiff_t i = 0; i < n; ++i) {
        if (!(t[i] == T(0) || t[i] == T(1))) return false;
    }
    return true;
}

// mean(max(1 - t' x, 0)) (Squared: of its square);
// g = -t' k / n (Squared: -2 max(1 - t' x, 0) t' k / n) where 1 - t' x >= 0, else 0
template <bool Squared, class T>
double hinge(const T* t, const T* x, T* g, std::ptrdiff_t n, double k, bool binary) {
    const T gk = static_cast<T>((Squared ? 2.0 : 1.0) * k / static_cast<double>(n));
    double s = 0.0;
    for (std::ptrdiff_t c = 0; c < n; ++c) {
        const T tc = binary ? T(2) * t[c] - T(1) : t[c];
        const T a = T(1) - tc * x[c];
        const T v = a < T(0) ? T(0) : a;  // NaN stays
        s += Squared ? static_cast<double>(v) * static_cast<double>(v) : static_cast<double>(v);
        if (g) g[c] = a < T(0) ? T(0) : (Squared ? -(v * tc) * gk : -tc * gk);
    }
    return s / static_cast<double>(n);
}

// max(neg - pos + 1, 0) with pos = sum(t x), neg = max((1 - t) x);
// g = (-t + (1 - t) [j is a maximum of (1 - t) x] / (number of maxima)) k where
// neg - pos + 1 >= 0, else 0 (ties of the max share its gradient, as TensorFlow).
template <class T>
double categorical_hinge(const T* t, const T* x, T* g, std::ptrdiff_t n, double k) {
    double pos = 0.0;
    T neg = (T(1) - t[0]) * x[0];
    for (std::ptrdiff_t c = 0; c < n; ++c) {
        pos += static_cast<double>(t[c] * x[c]);
        const T v = (T(1) - t[c]) * x[c];
        neg = (v > neg || v != v) ? v : neg;
    }
    const double a = static_cast<double>(neg) - pos + 1.0;
    if (g) {
        const T gk = static_cast<T>(k);
        if (a < 0.0) {
            for (std::ptrdiff_t c = 0; c < n; ++c) g[c] = T(0);
        } else {
            std::ptrdiff_t ties = 0;
            for (std::ptrdiff_t c = 0; c < n; ++c) ties += (T(1) - t[c]) * x[c] == neg;
            const T share = ties > 0 ? T(1) / static_cast<T>(ties) : T(0);
            for (std::ptrdiff_t c = 0; c < n; ++c) {
                const T v = (T(1) - t[c]) * x[c];
                const T hit = v == neg ? (T(1) - t[c]) * share : T(0);
                g[c] = (hit - t[c]) * gk;
            }
        }
    }
    return a < 0.0 ? 0.0 : a;
}

}  // namespace pydl::nn::loss_rows
