// Batch normalization kernels on raw row-major arrays: the functions behind
// `_core.batchnorm_forward` / `_core.batchnorm_backward`, written so that a
// training-plan node can call them directly (caller-given buffers, no allocation).
//
// x is viewed as (outer, channels, inner): `channels` is the extent of the
// normalized axis (Keras' `axis`), `outer` the product of the axes before it,
// `inner` of those after it (channels-last inputs: inner = 1). Each channel's
// statistics run over its count = outer * inner values:
//
//   mean = sum(x) / count,  variance = sum((x - mean)^2) / count   (biased, as Keras 3)
//   inv_std = 1 / sqrt(variance + epsilon)
//   y = (x - mean) * (gamma * inv_std) + beta
//
// Sums are accumulated in double in an order fixed by the shapes (columns: rows in
// order; channels: kLanes interleaved lanes), so results are bitwise identical at
// any thread count. Parallel over channels. gamma / beta may be nullptr (scale=False:
// 1, center=False: 0). Outputs must not overlap the inputs.
#pragma once

#include <cstddef>

namespace pydl::nn {

// Training forward: batch statistics. Writes y (outer*channels*inner) and, per
// channel, mean, variance (the biased batch variance: what Keras 3's moving
// average takes) and inv_std (what the backward pass takes).
template <class T>
void batchnorm_forward_training(const T* x, const T* gamma, const T* beta, std::ptrdiff_t outer,
                                std::ptrdiff_t channels, std::ptrdiff_t inner, double epsilon,
                                T* y, T* mean, T* variance, T* inv_std);

// Inference forward: the given (moving) mean and variance. Writes y and inv_std.
template <class T>
void batchnorm_forward_inference(const T* x, const T* gamma, const T* beta, const T* mean,
                                 const T* variance, std::ptrdiff_t outer, std::ptrdiff_t channels,
                                 std::ptrdiff_t inner, double epsilon, T* y, T* inv_std);

// Backward from the forward's mean and inv_std. training = the forward used batch
// statistics (then the gradient also flows through them):
//   dbeta = sum(dy), dgamma = sum(dy * (x - mean)) * inv_std
//   dx = gamma * inv_std * (dy - [mean(dy) + (x - mean) * inv_std^2 * mean(dy * (x - mean))])
// where the bracket is present only with batch statistics. dx, dgamma, dbeta may be
// nullptr (not computed).
template <class T>
void batchnorm_backward(const T* x, const T* gamma, const T* mean, const T* inv_std, const T* dy,
                        std::ptrdiff_t outer, std::ptrdiff_t channels, std::ptrdiff_t inner,
                        bool training, T* dx, T* dgamma, T* dbeta);

// Keras' moving-statistic update, in T: moving = moving * momentum + batch * (1 - momentum)
// (both factors rounded to T once; 1 - momentum formed in double).
template <class T>
void batchnorm_update_moving(T* moving, const T* batch, std::ptrdiff_t n, double momentum);

}  // namespace pydl::nn
