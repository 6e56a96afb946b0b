// Layer normalization kernels on raw row-major arrays: the functions behind
// `_core.layernorm_forward` / `_core.layernorm_backward`, callable directly by a
// training-plan node (caller-given buffers, no allocation).
//
// x is (rows, cols): each row is normalized over its cols values (the caller
// moves Keras' normalized axes last and flattens them). gamma / beta (cols) may
// be nullptr (scale=False / center=False).
//
//   mean = sum(x) / cols,  var = sum((x - mean)^2) / cols,  rstd = 1 / sqrt(var + epsilon)
//   y = (x - mean) * rstd * gamma + beta          (rms_scaling = false)
//   y = x * rstd * gamma                          (rms_scaling = true, Keras 3: no centering
//                                                  of x, no beta, rstd of the centered variance)
//
// Row sums in double (kLanes interleaved lanes), dgamma / dbeta summed over rows
// in row order: bitwise identical at any thread count. Parallel over rows
// (forward, dx) and over column blocks (dgamma, dbeta).
#pragma once

#include <cstddef>

namespace pydl::nn {

// Writes y (rows, cols), mean (rows) and rstd (rows).
template <class T>
void layernorm_forward(const T* x, const T* gamma, const T* beta, std::ptrdiff_t rows,
                       std::ptrdiff_t cols, double epsilon, bool rms_scaling, T* y, T* mean,
                       T* rstd);

// From the forward's mean and rstd:
//   g = dy * gamma, xhat = (x - mean) * rstd   (rms_scaling: xhat = x * rstd)
//   dx = rstd * (g - mean(g) - xhat * mean(g * xhat))
//   rms_scaling: dx = rstd * g - rstd^3 * (x - mean) * mean(g * x)
//   dgamma = sum over rows of dy * xhat, dbeta = sum over rows of dy
// dx, dgamma, dbeta may be nullptr (not computed).
template <class T>
void layernorm_backward(const T* x, const T* gamma, const T* mean, const T* rstd, const T* dy,
                        std::ptrdiff_t rows, std::ptrdiff_t cols, bool rms_scaling, T* dx,
                        T* dgamma, T* dbeta);

}  // namespace pydl::nn
