#include "nn/unit_norm.h"

#include <algorithm>
#include <cmath>

#include "cpu/threads.h"

namespace pydl::nn {

using std::ptrdiff_t;

namespace {

constexpr int kLanes = 8;

// sum_c a[c] * b[c] in double: kLanes interleaved lanes, added as a fixed tree, then
// the tail in order.
template <class T>
double dot(const T* a, const T* b, ptrdiff_t n) {
    double lane[kLanes] = {};
    ptrdiff_t c = 0;
    for (; c + kLanes <= n; c += kLanes) {
        for (int j = 0; j < kLanes; ++j) {
            lane[j] += static_cast<double>(a[c + j]) * static_cast<double>(b[c + j]);
        }
    }
    double total = ((lane[0] + lane[1]) + (lane[2] + lane[3])) +
                   ((lane[4] + lane[5]) + (lane[6] + lane[7]));
    for (; c < n; ++c) total += static_cast<double>(a[c]) * static_cast<double>(b[c]);
    return total;
}

template <class T>
T cap_of(double epsilon) {
    return static_cast<T>(1.0 / epsilon);
}

ptrdiff_t grain_rows(ptrdiff_t cols) {
    return std::max<ptrdiff_t>(1, 8192 / std::max<ptrdiff_t>(cols, 1));
}

}  // namespace

template <class T>
void unit_normalize_forward(const T* x, ptrdiff_t rows, ptrdiff_t cols, double epsilon, T* y,
                            T* inv) {
    const T cap = cap_of<T>(epsilon);
    parallel_for(rows, grain_rows(cols), [&](ptrdiff_t r0, ptrdiff_t r1) {
        for (ptrdiff_t r = r0; r < r1; ++r) {
            const T* xr = x + r * cols;
            const T v = static_cast<T>(1.0 / std::sqrt(dot(xr, xr, cols)));
            inv[r] = v;
            const T scale = v <= cap ? v : cap;
            T* yr = y + r * cols;
            for (ptrdiff_t c = 0; c < cols; ++c) yr[c] = xr[c] * scale;
        }
    });
}

template <class T>
void unit_normalize_backward(const T* y, const T* inv, const T* dy, ptrdiff_t rows,
                             ptrdiff_t cols, double epsilon, T* dx) {
    const T cap = cap_of<T>(epsilon);
    parallel_for(rows, grain_rows(cols), [&](ptrdiff_t r0, ptrdiff_t r1) {
        for (ptrdiff_t r = r0; r < r1; ++r) {
            const T* yr = y + r * cols;
            const T* gr = dy + r * cols;
            T* dr = dx + r * cols;
            const bool through = inv[r] <= cap;
            const T scale = through ? inv[r] : cap;
            if (!through) {
                for (ptrdiff_t c = 0; c < cols; ++c) dr[c] = scale * gr[c];
                continue;
            }
            const T along = static_cast<T>(dot(gr, yr, cols));
            for (ptrdiff_t c = 0; c < cols; ++c) {
                const T projected = yr[c] * along;
                dr[c] = scale * (gr[c] - projected);
            }
        }
    });
}

template void unit_normalize_forward<float>(const float*, ptrdiff_t, ptrdiff_t, double, float*,
                                            float*);
template void unit_normalize_forward<double>(const double*, ptrdiff_t, ptrdiff_t, double,
                                             double*, double*);
template void unit_normalize_backward<float>(const float*, const float*, const float*,
                                             ptrdiff_t, ptrdiff_t, double, float*);
template void unit_normalize_backward<double>(const double*, const double*, const double*,
                                              ptrdiff_t, ptrdiff_t, double, double*);

}  // namespace pydl::nn
