#include "nn/channel_affine.h"

#include <algorithm>
#include <cmath>

#include "cpu/threads.h"

namespace pydl::nn {

using std::ptrdiff_t;

namespace {

// Calls body(row, c, begin, end) for each run of `inner` values of one channel,
// parallel over the outer * channels runs.
template <class Body>
void over_runs(ptrdiff_t outer, ptrdiff_t channels, ptrdiff_t inner, Body&& body) {
    const ptrdiff_t runs = outer * channels;
    const ptrdiff_t grain = std::max<ptrdiff_t>(1, 16384 / std::max<ptrdiff_t>(inner, 1));
    parallel_for(runs, grain, [&](ptrdiff_t lo, ptrdiff_t hi) {
        for (ptrdiff_t r = lo; r < hi; ++r) body(r % channels, r * inner, (r + 1) * inner);
    });
}

}  // namespace

template <class T>
void channel_affine_forward(const T* x, const T* a, const T* b, ptrdiff_t outer,
                            ptrdiff_t channels, ptrdiff_t inner, AffineOrder order, T* y) {
    if (order == AffineOrder::scale_shift) {
        over_runs(outer, channels, inner, [&](ptrdiff_t c, ptrdiff_t lo, ptrdiff_t hi) {
            const T s = a[c], o = b[c];
            for (ptrdiff_t i = lo; i < hi; ++i) {
                const T scaled = x[i] * s;
                y[i] = scaled + o;
            }
        });
    } else {
        over_runs(outer, channels, inner, [&](ptrdiff_t c, ptrdiff_t lo, ptrdiff_t hi) {
            const T d = a[c], o = b[c];
            for (ptrdiff_t i = lo; i < hi; ++i) {
                const T shifted = x[i] - o;
                y[i] = shifted / d;
            }
        });
    }
}

template <class T>
void channel_affine_backward(const T* dy, const T* a, ptrdiff_t outer, ptrdiff_t channels,
                             ptrdiff_t inner, AffineOrder order, T* dx) {
    if (order == AffineOrder::scale_shift) {
        over_runs(outer, channels, inner, [&](ptrdiff_t c, ptrdiff_t lo, ptrdiff_t hi) {
            const T s = a[c];
            for (ptrdiff_t i = lo; i < hi; ++i) dx[i] = dy[i] * s;
        });
    } else {
        over_runs(outer, channels, inner, [&](ptrdiff_t c, ptrdiff_t lo, ptrdiff_t hi) {
            const T d = a[c];
            for (ptrdiff_t i = lo; i < hi; ++i) dx[i] = dy[i] / d;
        });
    }
}

template <class T>
void normalization_std(const T* variance, ptrdiff_t n, T* std) {
    const T floor = static_cast<T>(1e-7);
    for (ptrdiff_t i = 0; i < n; ++i) {
        const T s = std::sqrt(variance[i]);
        std[i] = (s >= floor || s != s) ? s : floor;
    }
}

#define PYDL_AFFINE(T)                                                                       \
    template void channel_affine_forward<T>(const T*, const T*, const T*, ptrdiff_t,         \
                                            ptrdiff_t, ptrdiff_t, AffineOrder, T*);          \
    template void channel_affine_backward<T>(const T*, const T*, ptrdiff_t, ptrdiff_t,       \
                                             ptrdiff_t, AffineOrder, T*);                    \
    template void normalization_std<T>(const T*, ptrdiff_t, T*);
PYDL_AFFINE(float)
PYDL_AFFINE(double)
#undef PYDL_AFFINE

}  // namespace pydl::nn
