// The normalization loops, written once. Included exactly once by
// norm_kernels.cpp, norm__avx2.cpp and norm__avx512.cpp, each after defining
// PYDL_NORM_NS to its own namespace name (cpu/isa.h: per-ISA code stays in its
// own namespace). Contracts: nn/norm_kernels.h.
//
// Element-wise work is done in T; sums in double (the order is fixed by the
// loops, see norm_kernels.h). Per-channel / per-row constants are computed in
// double and rounded to T once. std::sqrt compiles to an instruction here
// (-fno-math-errno), so no libm call reaches the per-ISA files.
#ifndef PYDL_NORM_NS
#error "define PYDL_NORM_NS before including nn/norm_loops.h"
#endif

#include <cmath>
#include <cstddef>

#include "nn/norm_kernels.h"

namespace pydl::nn::norm_detail::PYDL_NORM_NS {
namespace {

// lane[k] += f(i) for i in [0, n), i in lane i % kLanes.
template <class F>
inline void add_lanes(std::ptrdiff_t n, double* __restrict lane, F&& f) {
    std::ptrdiff_t i = 0;
    for (; i + kLanes <= n; i += kLanes) {
        for (int k = 0; k < kLanes; ++k) lane[k] += f(i + k);
    }
    for (int k = 0; i < n; ++i, ++k) lane[k] += f(i);
}

inline double lanes_total(const double* lane) {
    return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
}

// ---------------------------------------------------------------- batch normalization
// Per-channel constants of the forward pass: y = (x - mean) * scale + beta.
template <class T>
struct ForwardConstants {
    T mean, scale, shift;
};

// Statistics of channel c from the batch sums (count values), or read from the
// unit; writes mean / variance / inv_std and returns the affine constants.
template <class T>
ForwardConstants<T> channel_constants(const BatchNormUnit<T>& u, std::ptrdiff_t c, double mean,
                                      double variance) {
    if (u.training) {
        u.mean[c] = static_cast<T>(mean);
        u.variance[c] = static_cast<T>(variance);
    } else {
        mean = static_cast<double>(u.mean[c]);
        variance = static_cast<double>(u.variance[c]);
    }
    const double inv = 1.0 / std::sqrt(variance + u.epsilon);
    u.inv_std[c] = static_cast<T>(inv);
    const double gamma = u.gamma ? static_cast<double>(u.gamma[c]) : 1.0;
    return {static_cast<T>(u.mean[c]), static_cast<T>(gamma * inv),
            u.beta ? u.beta[c] : T(0)};
}

template <class T>
void batchnorm_forward_cols(const BatchNormUnit<T>& u, std::ptrdiff_t c0, std::ptrdiff_t c1) {
    const std::ptrdiff_t rows = u.outer, ld = u.channels, w = c1 - c0;
    const T* __restrict x = u.x + c0;
    double mean[kMaxColumnBlock] = {}, var[kMaxColumnBlock] = {};
    if (u.training) {
        for (std::ptrdiff_t r = 0; r < rows; ++r) {
            const T* __restrict xr = x + r * ld;
            for (std::ptrdiff_t j = 0; j < w; ++j) mean[j] += static_cast<double>(xr[j]);
        }
        const double inv_n = 1.0 / static_cast<double>(rows);
        for (std::ptrdiff_t j = 0; j < w; ++j) mean[j] *= inv_n;
        for (std::ptrdiff_t r = 0; r < rows; ++r) {
            const T* __restrict xr = x + r * ld;
            for (std::ptrdiff_t j = 0; j < w; ++j) {
                const double d = static_cast<double>(xr[j]) - mean[j];
                var[j] += d * d;
            }
        }
        for (std::ptrdiff_t j = 0; j < w; ++j) var[j] *= inv_n;
    }
    T m[kMaxColumnBlock], scale[kMaxColumnBlock], shift[kMaxColumnBlock];
    for (std::ptrdiff_t j = 0; j < w; ++j) {
        const ForwardConstants<T> k = channel_constants(u, c0 + j, mean[j], var[j]);
        m[j] = k.mean;
        scale[j] = k.scale;
        shift[j] = k.shift;
    }
    for (std::ptrdiff_t r = 0; r < rows; ++r) {
        const T* __restrict xr = x + r * ld;
        T* __restrict yr = u.y + r * ld + c0;
        for (std::ptrdiff_t j = 0; j < w; ++j) yr[j] = (xr[j] - m[j]) * scale[j] + shift[j];
    }
}

template <class T>
void batchnorm_forward_channels(const BatchNormUnit<T>& u, std::ptrdiff_t c0,
                                std::ptrdiff_t c1) {
    const std::ptrdiff_t inner = u.inner, stride = u.channels * inner;
    for (std::ptrdiff_t c = c0; c < c1; ++c) {
        const T* x = u.x + c * inner;
        double mean = 0.0, var = 0.0;
        if (u.training) {
            double lane[kLanes] = {};
            for (std::ptrdiff_t o = 0; o < u.outer; ++o) {
                const T* __restrict s = x + o * stride;
                add_lanes(inner, lane, [s](std::ptrdiff_t i) { return static_cast<double>(s[i]); });
            }
            mean = lanes_total(lane) / static_cast<double>(u.outer * inner);
            double sq[kLanes] = {};
            for (std::ptrdiff_t o = 0; o < u.outer; ++o) {
                const T* __restrict s = x + o * stride;
                add_lanes(inner, sq, [s, mean](std::ptrdiff_t i) {
                    const double d = static_cast<double>(s[i]) - mean;
                    return d * d;
                });
            }
            var = lanes_total(sq) / static_cast<double>(u.outer * inner);
        }
        const ForwardConstants<T> k = channel_constants(u, c, mean, var);
        for (std::ptrdiff_t o = 0; o < u.outer; ++o) {
            const T* __restrict s = x + o * stride;
            T* __restrict y = u.y + o * stride + c * inner;
            for (std::ptrdiff_t i = 0; i < inner; ++i) y[i] = (s[i] - k.mean) * k.scale + k.shift;
        }
    }
}

// Per-channel constants of the backward pass: dx = a * (dy - mean_dy) - b * (x - mean).
template <class T>
struct BackwardConstants {
    T mean, a, mean_dy, b;
};

// From the channel's sums sum(dy) and sum(dy * (x - mean)) over count values.
template <class T>
BackwardConstants<T> backward_constants(const BatchNormUnit<T>& u, std::ptrdiff_t c,
                                        double sum_dy, double sum_dy_xc, double count) {
    const double inv = static_cast<double>(u.inv_std[c]);
    const double gamma = u.gamma ? static_cast<double>(u.gamma[c]) : 1.0;
    if (u.dgamma) u.dgamma[c] = static_cast<T>(sum_dy_xc * inv);
    if (u.dbeta) u.dbeta[c] = static_cast<T>(sum_dy);
    const double a = gamma * inv;
    if (!u.training) return {u.mean[c], static_cast<T>(a), T(0), T(0)};
    // d/dx of gamma * (x - mean) * inv with the batch's mean and inv: the mean
    // term removes mean(dy), the variance term b * (x - mean).
    return {u.mean[c], static_cast<T>(a), static_cast<T>(sum_dy / count),
            static_cast<T>(a * inv * inv * sum_dy_xc / count)};
}

template <class T>
void batchnorm_backward_cols(const BatchNormUnit<T>& u, std::ptrdiff_t c0, std::ptrdiff_t c1) {
    const std::ptrdiff_t rows = u.outer, ld = u.channels, w = c1 - c0;
    T m[kMaxColumnBlock];
    for (std::ptrdiff_t j = 0; j < w; ++j) m[j] = u.mean[c0 + j];
    double sdy[kMaxColumnBlock] = {}, sdyx[kMaxColumnBlock] = {};
    for (std::ptrdiff_t r = 0; r < rows; ++r) {
        const T* __restrict xr = u.x + r * ld + c0;
        const T* __restrict dyr = u.dy + r * ld + c0;
        for (std::ptrdiff_t j = 0; j < w; ++j) {
            const double g = static_cast<double>(dyr[j]);
            sdy[j] += g;
            sdyx[j] += g * static_cast<double>(xr[j] - m[j]);
        }
    }
    T a[kMaxColumnBlock], mdy[kMaxColumnBlock], b[kMaxColumnBlock];
    for (std::ptrdiff_t j = 0; j < w; ++j) {
        const BackwardConstants<T> k =
            backward_constants(u, c0 + j, sdy[j], sdyx[j], static_cast<double>(rows));
        a[j] = k.a;
        mdy[j] = k.mean_dy;
        b[j] = k.b;
    }
    if (!u.dx) return;
    for (std::ptrdiff_t r = 0; r < rows; ++r) {
        const T* __restrict xr = u.x + r * ld + c0;
        const T* __restrict dyr = u.dy + r * ld + c0;
        T* __restrict dxr = u.dx + r * ld + c0;
        for (std::ptrdiff_t j = 0; j < w; ++j) {
            dxr[j] = a[j] * (dyr[j] - mdy[j]) - b[j] * (xr[j] - m[j]);
        }
    }
}

template <class T>
void batchnorm_backward_channels(const BatchNormUnit<T>& u, std::ptrdiff_t c0,
                                 std::ptrdiff_t c1) {
    const std::ptrdiff_t inner = u.inner, stride = u.channels * inner;
    for (std::ptrdiff_t c = c0; c < c1; ++c) {
        const T m = u.mean[c];
        double lane_dy[kLanes] = {}, lane_dyx[kLanes] = {};
        for (std::ptrdiff_t o = 0; o < u.outer; ++o) {
            const T* __restrict s = u.x + o * stride + c * inner;
            const T* __restrict g = u.dy + o * stride + c * inner;
            add_lanes(inner, lane_dy, [g](std::ptrdiff_t i) { return static_cast<double>(g[i]); });
            add_lanes(inner, lane_dyx, [s, g, m](std::ptrdiff_t i) {
                return static_cast<double>(g[i]) * static_cast<double>(s[i] - m);
            });
        }
        const BackwardConstants<T> k =
            backward_constants(u, c, lanes_total(lane_dy), lanes_total(lane_dyx),
                               static_cast<double>(u.outer * inner));
        if (!u.dx) continue;
        for (std::ptrdiff_t o = 0; o < u.outer; ++o) {
            const T* __restrict s = u.x + o * stride + c * inner;
            const T* __restrict g = u.dy + o * stride + c * inner;
            T* __restrict d = u.dx + o * stride + c * inner;
            for (std::ptrdiff_t i = 0; i < inner; ++i) {
                d[i] = k.a * (g[i] - k.mean_dy) - k.b * (s[i] - k.mean);
            }
        }
    }
}

// ---------------------------------------------------------------- layer normalization
template <class T>
void layernorm_forward_rows(const LayerNormUnit<T>& u, std::ptrdiff_t r0, std::ptrdiff_t r1) {
    const std::ptrdiff_t n = u.cols;
    const double inv_n = 1.0 / static_cast<double>(n);
    for (std::ptrdiff_t r = r0; r < r1; ++r) {
        const T* __restrict x = u.x + r * n;
        T* __restrict y = u.y + r * n;
        double lane[kLanes] = {};
        add_lanes(n, lane, [x](std::ptrdiff_t i) { return static_cast<double>(x[i]); });
        const double mean = lanes_total(lane) * inv_n;
        double sq[kLanes] = {};
        add_lanes(n, sq, [x, mean](std::ptrdiff_t i) {
            const double d = static_cast<double>(x[i]) - mean;
            return d * d;
        });
        const double rstd = 1.0 / std::sqrt(lanes_total(sq) * inv_n + u.epsilon);
        const T m = static_cast<T>(mean), s = static_cast<T>(rstd);
        u.mean[r] = m;
        u.rstd[r] = s;
        const T* __restrict gamma = u.gamma;
        const T* __restrict beta = u.beta;
        if (u.rms_scaling) {
            if (gamma) {
                for (std::ptrdiff_t i = 0; i < n; ++i) y[i] = x[i] * s * gamma[i];
            } else {
                for (std::ptrdiff_t i = 0; i < n; ++i) y[i] = x[i] * s;
            }
        } else if (gamma && beta) {
            for (std::ptrdiff_t i = 0; i < n; ++i) y[i] = (x[i] - m) * s * gamma[i] + beta[i];
        } else if (gamma) {
            for (std::ptrdiff_t i = 0; i < n; ++i) y[i] = (x[i] - m) * s * gamma[i];
        } else if (beta) {
            for (std::ptrdiff_t i = 0; i < n; ++i) y[i] = (x[i] - m) * s + beta[i];
        } else {
            for (std::ptrdiff_t i = 0; i < n; ++i) y[i] = (x[i] - m) * s;
        }
    }
}

template <class T>
void layernorm_backward_rows(const LayerNormUnit<T>& u, std::ptrdiff_t r0, std::ptrdiff_t r1) {
    const std::ptrdiff_t n = u.cols;
    const double inv_n = 1.0 / static_cast<double>(n);
    const T* __restrict gamma = u.gamma;
    for (std::ptrdiff_t r = r0; r < r1; ++r) {
        const T* __restrict x = u.x + r * n;
        const T* __restrict dy = u.dy + r * n;
        T* __restrict dx = u.dx + r * n;
        const T m = u.mean[r], s = u.rstd[r];
        // g = dy * gamma; xhat = (x - mean) * rstd.
        auto g = [dy, gamma](std::ptrdiff_t i) { return gamma ? dy[i] * gamma[i] : dy[i]; };
        if (u.rms_scaling) {
            // y = x * rstd * gamma: dx = rstd * g - rstd^3 * (x - mean) * sum(g * x) / n.
            double lane[kLanes] = {};
            add_lanes(n, lane, [&](std::ptrdiff_t i) {
                return static_cast<double>(g(i)) * static_cast<double>(x[i]);
            });
            const double rs = static_cast<double>(s);
            const T b = static_cast<T>(rs * rs * rs * lanes_total(lane) * inv_n);
            for (std::ptrdiff_t i = 0; i < n; ++i) dx[i] = s * g(i) - b * (x[i] - m);
            continue;
        }
        // dx = rstd * (g - mean(g) - xhat * mean(g * xhat)).
        double lane_g[kLanes] = {}, lane_gx[kLanes] = {};
        add_lanes(n, lane_g, [&](std::ptrdiff_t i) { return static_cast<double>(g(i)); });
        add_lanes(n, lane_gx, [&](std::ptrdiff_t i) {
            return static_cast<double>(g(i)) * static_cast<double>((x[i] - m) * s);
        });
        const T mean_g = static_cast<T>(lanes_total(lane_g) * inv_n);
        const T mean_gx = static_cast<T>(lanes_total(lane_gx) * inv_n);
        for (std::ptrdiff_t i = 0; i < n; ++i) {
            dx[i] = s * (g(i) - mean_g - (x[i] - m) * s * mean_gx);
        }
    }
}

template <class T>
void layernorm_param_grads_cols(const LayerNormUnit<T>& u, std::ptrdiff_t j0,
                                std::ptrdiff_t j1) {
    const std::ptrdiff_t n = u.cols, w = j1 - j0;
    double dg[kMaxColumnBlock] = {}, db[kMaxColumnBlock] = {};
    for (std::ptrdiff_t r = 0; r < u.rows; ++r) {
        const T* __restrict x = u.x + r * n + j0;
        const T* __restrict dy = u.dy + r * n + j0;
        const T m = u.rms_scaling ? T(0) : u.mean[r], s = u.rstd[r];
        for (std::ptrdiff_t j = 0; j < w; ++j) {
            const double g = static_cast<double>(dy[j]);
            dg[j] += g * static_cast<double>((x[j] - m) * s);
            db[j] += g;
        }
    }
    if (u.dgamma) for (std::ptrdiff_t j = 0; j < w; ++j) u.dgamma[j0 + j] = static_cast<T>(dg[j]);
    if (u.dbeta) for (std::ptrdiff_t j = 0; j < w; ++j) u.dbeta[j0 + j] = static_cast<T>(db[j]);
}

template <class T>
NormTable<T> make_table() {
    NormTable<T> t;
    t.batchnorm_forward_cols = batchnorm_forward_cols<T>;
    t.batchnorm_forward_channels = batchnorm_forward_channels<T>;
    t.batchnorm_backward_cols = batchnorm_backward_cols<T>;
    t.batchnorm_backward_channels = batchnorm_backward_channels<T>;
    t.layernorm_forward_rows = layernorm_forward_rows<T>;
    t.layernorm_backward_rows = layernorm_backward_rows<T>;
    t.layernorm_param_grads_cols = layernorm_param_grads_cols<T>;
    return t;
}

}  // namespace

NormTable<float> table_f32() { return make_table<float>(); }
NormTable<double> table_f64() { return make_table<double>(); }

}  // namespace pydl::nn::norm_detail::PYDL_NORM_NS
