// The normalization loops, written once. Included exactly once by
// norm_kernels.cpp, norm__avx2.cpp and norm__avx512.cpp, each after defining
// PYDL_NORM_NS to its own namespace name (cpu/isa.h: per-ISA code stays in its
// own namespace). Contracts: nn/norm_kernels.h.
//
// Element-wise work is done in T; sums in T over short chunks, chunk sums added in
// double, in an order fixed by the shapes (row_sums and columns below).
// Per-channel / per-row constants are computed in double and rounded to T once.
// std::sqrt compiles to an instruction here (-fno-math-errno): no libm call reaches
// the per-ISA files.
#ifndef PYDL_NORM_NS
#error "define PYDL_NORM_NS before including nn/norm_loops.h"
#endif

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "nn/norm_kernels.h"

namespace pydl::nn::norm_detail::PYDL_NORM_NS {
namespace {

using std::ptrdiff_t;

// Two sums computed in one pass: Pair in double, PairOf<T> the terms and partial sums.
template <class A>
struct PairOf {
    A a, b;
};
using Pair = PairOf<double>;

// Values per chunk of a row sum, and rows per chunk of a column sum: a chunk is summed
// in T (float32 for float32 data: no conversions, half the bytes), then added in double.
constexpr ptrdiff_t kChunk = 512;
constexpr ptrdiff_t kRowChunk = 16;

// sum of f(i) over [0, n) for f returning PairOf<T> (both sums in one pass). Each chunk of
// kChunk values runs kLanes interleaved lanes in T over whole groups of kLanes values,
// adds them as a pairwise tree, then its tail in order; chunk totals are added in double,
// in order. The lanes are local arrays indexed only by constants after unrolling, so the
// compiler keeps them in registers.
template <class T, class F>
inline Pair row_sums(ptrdiff_t n, F&& f) {
    Pair total{0.0, 0.0};
    for (ptrdiff_t c0 = 0; c0 < n; c0 += kChunk) {
        const ptrdiff_t c1 = std::min(n, c0 + kChunk);
        T la[kLanes] = {}, lb[kLanes] = {};
        ptrdiff_t i = c0;
        for (; i + kLanes <= c1; i += kLanes) {
            for (int k = 0; k < kLanes; ++k) {
                const PairOf<T> v = f(i + k);
                la[k] += v.a;
                lb[k] += v.b;
            }
        }
        for (int width = kLanes / 2; width > 0; width /= 2) {
            for (int k = 0; k < width; ++k) {
                la[k] += la[k + width];
                lb[k] += lb[k + width];
            }
        }
        for (; i < c1; ++i) {
            const PairOf<T> v = f(i);
            la[0] += v.a;
            lb[0] += v.b;
        }
        total.a += static_cast<double>(la[0]);
        total.b += static_cast<double>(lb[0]);
    }
    return total;
}

// out[j] = sum over rows r, in order, of f(r, j) for j in [0, w) (w <= kMaxColumnBlock; f
// returns PairOf<T>: both sums in one pass): chunks of kRowChunk rows summed in T, chunk
// sums added in double, in order. Rows are read whole (w contiguous values each) into
// accumulators that stay in L1: narrow strided blocks would touch a new page per row.
template <class T, class F>
inline void columns(ptrdiff_t rows, ptrdiff_t w, Pair* __restrict out, F&& f) {
    double a[kMaxColumnBlock], b[kMaxColumnBlock];
    for (ptrdiff_t j = 0; j < w; ++j) a[j] = b[j] = 0.0;
    for (ptrdiff_t r0 = 0; r0 < rows; r0 += kRowChunk) {
        const ptrdiff_t r1 = std::min(rows, r0 + kRowChunk);
        T ca[kMaxColumnBlock], cb[kMaxColumnBlock];
        for (ptrdiff_t j = 0; j < w; ++j) ca[j] = cb[j] = T(0);
        for (ptrdiff_t r = r0; r < r1; ++r) {
            for (ptrdiff_t j = 0; j < w; ++j) {
                const PairOf<T> v = f(r, j);
                ca[j] += v.a;
                cb[j] += v.b;
            }
        }
        for (ptrdiff_t j = 0; j < w; ++j) {
            a[j] += static_cast<double>(ca[j]);
            b[j] += static_cast<double>(cb[j]);
        }
    }
    for (ptrdiff_t j = 0; j < w; ++j) out[j] = {a[j], b[j]};
}

// Mean and (biased) variance from sums of d = x - shift and d^2 over n values. The shift
// is one of the values (the first), so the one-pass formula keeps double precision for
// any offset of the data.
inline Pair moments(double shift, Pair sums, double n) {
    const double mean_d = sums.a / n;
    const double var = sums.b / n - mean_d * mean_d;
    return {shift + mean_d, var > 0.0 ? var : 0.0};
}

// ---------------------------------------------------------------- batch normalization
// Per-channel constants of the forward pass: y = (x - mean) * scale + beta.
template <class T>
struct ForwardConstants {
    T mean, scale, shift;
};

// Statistics of channel c from the batch (mean, variance over count values), or read
// from the unit; writes mean / variance / inv_std and returns the affine constants.
template <class T>
ForwardConstants<T> channel_constants(const BatchNormUnit<T>& u, ptrdiff_t c, double mean,
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
void batchnorm_forward_cols(const BatchNormUnit<T>& u, ptrdiff_t c0, ptrdiff_t c1) {
    const ptrdiff_t rows = u.outer, ld = u.channels, w = c1 - c0;
    const T* __restrict x = u.x + c0;
    Pair stats[kMaxColumnBlock] = {};
    if (u.training && rows == 0) {  // the mean of nothing, as NumPy
        for (ptrdiff_t j = 0; j < w; ++j) stats[j] = {NAN, NAN};
    } else if (u.training) {
        const T* shift = x;  // the first row
        columns<T>(rows, w, stats, [x, ld, shift](ptrdiff_t r, ptrdiff_t j) {
            const T d = x[r * ld + j] - shift[j];
            return PairOf<T>{d, d * d};
        });
        for (ptrdiff_t j = 0; j < w; ++j) {
            stats[j] = moments(static_cast<double>(shift[j]), stats[j], static_cast<double>(rows));
        }
    }
    T m[kMaxColumnBlock], scale[kMaxColumnBlock], shift[kMaxColumnBlock];
    for (ptrdiff_t j = 0; j < w; ++j) {
        const ForwardConstants<T> k = channel_constants(u, c0 + j, stats[j].a, stats[j].b);
        m[j] = k.mean;
        scale[j] = k.scale;
        shift[j] = k.shift;
    }
    for (ptrdiff_t r = 0; r < rows; ++r) {
        const T* __restrict xr = x + r * ld;
        T* __restrict yr = u.y + r * ld + c0;
        for (ptrdiff_t j = 0; j < w; ++j) yr[j] = (xr[j] - m[j]) * scale[j] + shift[j];
    }
}

template <class T>
void batchnorm_forward_channels(const BatchNormUnit<T>& u, ptrdiff_t c0, ptrdiff_t c1) {
    const ptrdiff_t inner = u.inner, stride = u.channels * inner;
    for (ptrdiff_t c = c0; c < c1; ++c) {
        const T* x = u.x + c * inner;
        Pair stats{0.0, 0.0};
        if (u.training && u.outer * inner == 0) {
            stats = {NAN, NAN};  // the mean of nothing, as NumPy
        } else if (u.training) {
            // Segments (one per outer index) summed in order, each a row_sums.
            const T shift = x[0];
            Pair sums{0.0, 0.0};
            for (ptrdiff_t o = 0; o < u.outer; ++o) {
                const T* __restrict s = x + o * stride;
                const Pair p = row_sums<T>(inner, [s, shift](ptrdiff_t i) {
                    const T d = s[i] - shift;
                    return PairOf<T>{d, d * d};
                });
                sums.a += p.a;
                sums.b += p.b;
            }
            stats = moments(static_cast<double>(shift), sums,
                            static_cast<double>(u.outer * inner));
        }
        const ForwardConstants<T> k = channel_constants(u, c, stats.a, stats.b);
        for (ptrdiff_t o = 0; o < u.outer; ++o) {
            const T* __restrict s = x + o * stride;
            T* __restrict y = u.y + o * stride + c * inner;
            for (ptrdiff_t i = 0; i < inner; ++i) y[i] = (s[i] - k.mean) * k.scale + k.shift;
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
BackwardConstants<T> backward_constants(const BatchNormUnit<T>& u, ptrdiff_t c, double sum_dy,
                                        double sum_dy_xc, double count) {
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
void batchnorm_backward_cols(const BatchNormUnit<T>& u, ptrdiff_t c0, ptrdiff_t c1) {
    const ptrdiff_t rows = u.outer, ld = u.channels, w = c1 - c0;
    const T* __restrict x = u.x + c0;
    const T* __restrict dy = u.dy + c0;
    T m[kMaxColumnBlock];
    for (ptrdiff_t j = 0; j < w; ++j) m[j] = u.mean[c0 + j];
    Pair sums[kMaxColumnBlock];  // sum(dy), sum(dy * (x - mean))
    const T* mm = m;
    columns<T>(rows, w, sums, [x, dy, ld, mm](ptrdiff_t r, ptrdiff_t j) {
        const T g = dy[r * ld + j];
        return PairOf<T>{g, g * (x[r * ld + j] - mm[j])};
    });
    T a[kMaxColumnBlock], mdy[kMaxColumnBlock], b[kMaxColumnBlock];
    for (ptrdiff_t j = 0; j < w; ++j) {
        const BackwardConstants<T> k =
            backward_constants(u, c0 + j, sums[j].a, sums[j].b, static_cast<double>(rows));
        a[j] = k.a;
        mdy[j] = k.mean_dy;
        b[j] = k.b;
    }
    if (!u.dx) return;
    for (ptrdiff_t r = 0; r < rows; ++r) {
        const T* __restrict xr = x + r * ld;
        const T* __restrict dyr = dy + r * ld;
        T* __restrict dxr = u.dx + r * ld + c0;
        for (ptrdiff_t j = 0; j < w; ++j) {
            dxr[j] = a[j] * (dyr[j] - mdy[j]) - b[j] * (xr[j] - m[j]);
        }
    }
}

template <class T>
void batchnorm_backward_channels(const BatchNormUnit<T>& u, ptrdiff_t c0, ptrdiff_t c1) {
    const ptrdiff_t inner = u.inner, stride = u.channels * inner;
    for (ptrdiff_t c = c0; c < c1; ++c) {
        const T m = u.mean[c];
        Pair sums{0.0, 0.0};  // sum(dy), sum(dy * (x - mean))
        for (ptrdiff_t o = 0; o < u.outer; ++o) {
            const T* __restrict s = u.x + o * stride + c * inner;
            const T* __restrict g = u.dy + o * stride + c * inner;
            const Pair p = row_sums<T>(inner, [s, g, m](ptrdiff_t i) {
                return PairOf<T>{g[i], g[i] * (s[i] - m)};
            });
            sums.a += p.a;
            sums.b += p.b;
        }
        const BackwardConstants<T> k =
            backward_constants(u, c, sums.a, sums.b, static_cast<double>(u.outer * inner));
        if (!u.dx) continue;
        for (ptrdiff_t o = 0; o < u.outer; ++o) {
            const T* __restrict s = u.x + o * stride + c * inner;
            const T* __restrict g = u.dy + o * stride + c * inner;
            T* __restrict d = u.dx + o * stride + c * inner;
            for (ptrdiff_t i = 0; i < inner; ++i) {
                d[i] = k.a * (g[i] - k.mean_dy) - k.b * (s[i] - k.mean);
            }
        }
    }
}

// ---------------------------------------------------------------- layer normalization
template <class T>
void layernorm_forward_rows(const LayerNormUnit<T>& u, ptrdiff_t r0, ptrdiff_t r1) {
    const ptrdiff_t n = u.cols;
    const T* __restrict gamma = u.gamma;
    const T* __restrict beta = u.beta;
    for (ptrdiff_t r = r0; r < r1; ++r) {
        const T* __restrict x = u.x + r * n;
        T* __restrict y = u.y + r * n;
        const T shift = x[0];
        const Pair sums = row_sums<T>(n, [x, shift](ptrdiff_t i) {
            const T d = x[i] - shift;
            return PairOf<T>{d, d * d};
        });
        const Pair stats = moments(static_cast<double>(shift), sums, static_cast<double>(n));
        const T m = static_cast<T>(stats.a);
        const T s = static_cast<T>(1.0 / std::sqrt(stats.b + u.epsilon));
        u.mean[r] = m;
        u.rstd[r] = s;
        if (u.rms_scaling) {
            if (gamma) {
                for (ptrdiff_t i = 0; i < n; ++i) y[i] = x[i] * s * gamma[i];
            } else {
                for (ptrdiff_t i = 0; i < n; ++i) y[i] = x[i] * s;
            }
        } else if (gamma && beta) {
            for (ptrdiff_t i = 0; i < n; ++i) y[i] = (x[i] - m) * s * gamma[i] + beta[i];
        } else if (gamma) {
            for (ptrdiff_t i = 0; i < n; ++i) y[i] = (x[i] - m) * s * gamma[i];
        } else if (beta) {
            for (ptrdiff_t i = 0; i < n; ++i) y[i] = (x[i] - m) * s + beta[i];
        } else {
            for (ptrdiff_t i = 0; i < n; ++i) y[i] = (x[i] - m) * s;
        }
    }
}

// dx of one row from g = dy * gamma (HasGamma) or dy.
template <bool HasGamma, class T>
void layernorm_dx_row(const LayerNormUnit<T>& u, ptrdiff_t r) {
    const ptrdiff_t n = u.cols;
    const double inv_n = 1.0 / static_cast<double>(n);
    const T* __restrict x = u.x + r * n;
    const T* __restrict dy = u.dy + r * n;
    const T* __restrict gamma = u.gamma;
    T* __restrict dx = u.dx + r * n;
    const T m = u.mean[r], s = u.rstd[r];
    auto g = [dy, gamma](ptrdiff_t i) { return HasGamma ? dy[i] * gamma[i] : dy[i]; };
    if (u.rms_scaling) {
        // y = x * rstd * gamma: dx = rstd * g - rstd^3 * (x - mean) * sum(g * x) / n.
        const double sum_gx =
            row_sums<T>(n, [&](ptrdiff_t i) { return PairOf<T>{g(i) * x[i], T(0)}; }).a;
        const double rs = static_cast<double>(s);
        const T b = static_cast<T>(rs * rs * rs * sum_gx * inv_n);
        for (ptrdiff_t i = 0; i < n; ++i) dx[i] = s * g(i) - b * (x[i] - m);
        return;
    }
    // dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), xhat = (x - mean) * rstd.
    const Pair sums = row_sums<T>(n, [&](ptrdiff_t i) {
        const T gi = g(i);
        return PairOf<T>{gi, gi * ((x[i] - m) * s)};
    });
    const T mean_g = static_cast<T>(sums.a * inv_n);
    const T mean_gx = static_cast<T>(sums.b * inv_n);
    for (ptrdiff_t i = 0; i < n; ++i) dx[i] = s * (g(i) - mean_g - (x[i] - m) * s * mean_gx);
}

template <class T>
void layernorm_backward_rows(const LayerNormUnit<T>& u, ptrdiff_t r0, ptrdiff_t r1) {
    for (ptrdiff_t r = r0; r < r1; ++r) {
        if (u.gamma) {
            layernorm_dx_row<true>(u, r);
        } else {
            layernorm_dx_row<false>(u, r);
        }
    }
}

template <class T>
void layernorm_param_grads_cols(const LayerNormUnit<T>& u, ptrdiff_t j0, ptrdiff_t j1) {
    const ptrdiff_t n = u.cols, w = j1 - j0;
    const T* __restrict x = u.x + j0;
    const T* __restrict dy = u.dy + j0;
    const T* __restrict rstd = u.rstd;
    // xhat = (x - mean) * rstd, or x * rstd with rms_scaling.
    const T* __restrict mean = u.rms_scaling ? nullptr : u.mean;
    Pair sums[kMaxColumnBlock];  // sum(dy * xhat), sum(dy)
    if (mean) {
        columns<T>(u.rows, w, sums, [=](ptrdiff_t r, ptrdiff_t j) {
            const T g = dy[r * n + j];
            return PairOf<T>{g * ((x[r * n + j] - mean[r]) * rstd[r]), g};
        });
    } else {
        columns<T>(u.rows, w, sums, [=](ptrdiff_t r, ptrdiff_t j) {
            const T g = dy[r * n + j];
            return PairOf<T>{g * (x[r * n + j] * rstd[r]), g};
        });
    }
    for (ptrdiff_t j = 0; j < w; ++j) {
        if (u.dgamma) u.dgamma[j0 + j] = static_cast<T>(sums[j].a);
        if (u.dbeta) u.dbeta[j0 + j] = static_cast<T>(sums[j].b);
    }
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
