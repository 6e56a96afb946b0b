// L2 normalization of rows (Keras' ops.normalize with order 2: UnitNormalization)
// on raw row-major arrays, for the tape's op and the plan's node alike:
//
//   inv[r] = T(1 / sqrt(sum_c x[r, c]^2))        (the sum in double, fixed order)
//   scale  = inv[r] <= cap ? inv[r] : cap         (cap = T(1 / epsilon); NaN -> cap,
//                                                  as np.where(inv <= cap, inv, cap))
//   y      = x * scale
//   backward: along = T(sum_c dy * y) (double), dx = scale * (dy - y * along) where
//             inv <= cap, dx = scale * dy elsewhere (the cap's gradient is 0)
//
// x is (rows, cols): the caller moves the normalized axes last. Parallel over rows,
// each row summed by one thread in one order (8 interleaved lanes, then the lanes
// in a fixed tree, then the tail): bitwise identical at any thread count.
#pragma once

#include <cstddef>

namespace pydl::nn {

// Writes y (rows, cols) and inv (rows), what the backward reads.
template <class T>
void unit_normalize_forward(const T* x, std::ptrdiff_t rows, std::ptrdiff_t cols,
                            double epsilon, T* y, T* inv);

template <class T>
void unit_normalize_backward(const T* y, const T* inv, const T* dy, std::ptrdiff_t rows,
                             std::ptrdiff_t cols, double epsilon, T* dx);

}  // namespace pydl::nn
