// A per-channel affine map on raw arrays: the arithmetic of Rescaling and
// Normalization as their tape ops compute it (two NumPy ufuncs, each rounded to T):
//
//   scale_shift:   y = x * a[c] + b[c]        dx = dy * a[c]
//   shift_divide:  y = (x - b[c]) / a[c]      dx = dy / a[c]
//
// x is viewed as (outer, channels, inner), c the channel of each value; a and b hold
// `channels` values. normalization_std: std = maximum(sqrt(variance), T(1e-7)) as
// Normalization forms it (a NaN variance gives a NaN std, as np.maximum).
// Element-wise: bitwise identical at any thread count.
#pragma once

#include <cstddef>

namespace pydl::nn {

enum class AffineOrder : int { scale_shift, shift_divide };

template <class T>
void channel_affine_forward(const T* x, const T* a, const T* b, std::ptrdiff_t outer,
                            std::ptrdiff_t channels, std::ptrdiff_t inner, AffineOrder order,
                            T* y);

template <class T>
void channel_affine_backward(const T* dy, const T* a, std::ptrdiff_t outer,
                             std::ptrdiff_t channels, std::ptrdiff_t inner, AffineOrder order,
                             T* dx);

template <class T>
void normalization_std(const T* variance, std::ptrdiff_t n, T* std);

}  // namespace pydl::nn
