// Global pooling over the steps axis on raw row-major arrays: the functions behind
// `_core.global_pool_forward` / `_core.global_pool_backward` (GlobalAveragePooling1D,
// GlobalMaxPooling1D), callable directly by a training-plan node.
//
// x is viewed as (outer, steps, inner) and reduced over steps into y (outer, inner):
// channels_last (batch, steps, features) is outer = batch, inner = features;
// channels_first (batch, features, steps) is outer = batch * features, inner = 1.
// Parallel over outer; every output is computed by one thread in a fixed order
// (bitwise identical at any thread count).
#pragma once

#include <cstddef>
#include <cstdint>

namespace pydl::nn {

// y = sum over steps of x / steps, or with a mask (nonzero = kept) of shape
// (outer / mask_group, steps) -- outer row o reads mask row o / mask_group --
// sum over kept steps / number of kept steps (Keras 3: NaN when none is kept).
// Sums in double, steps in order. mask may be nullptr.
template <class T>
void global_average_pool_forward(const T* x, const std::uint8_t* mask, std::ptrdiff_t outer,
                                 std::ptrdiff_t steps, std::ptrdiff_t inner,
                                 std::ptrdiff_t mask_group, T* y);

// dx[o, t, i] = dy[o, i] / count(o) where step t is kept (all without a mask), else 0.
template <class T>
void global_average_pool_backward(const T* dy, const std::uint8_t* mask, std::ptrdiff_t outer,
                                  std::ptrdiff_t steps, std::ptrdiff_t inner,
                                  std::ptrdiff_t mask_group, T* dx);

// y = max over steps (steps >= 1); argmax (outer, inner) receives the step of the
// first maximum in step order (a NaN counts as the maximum, so it propagates).
template <class T>
void global_max_pool_forward(const T* x, std::ptrdiff_t outer, std::ptrdiff_t steps,
                             std::ptrdiff_t inner, T* y, std::int64_t* argmax);

// dx = 0 except dx[o, argmax[o, i], i] = dy[o, i].
template <class T>
void global_max_pool_backward(const T* dy, const std::int64_t* argmax, std::ptrdiff_t outer,
                              std::ptrdiff_t steps, std::ptrdiff_t inner, T* dx);

}  // namespace pydl::nn
