// The training-time noise of GaussianNoise, GaussianDropout and AlphaDropout on raw
// arrays, as the tape's ops compute it (pydl/layers/regularization.py: NumPy
// float products and sums of the input and the drawn noise, each rounded to T):
//
//   gaussian_noise:    out = x + noise                     backward: dx = dy
//   noise_multiply:    out = v * noise  (GaussianDropout's forward, v = x, and
//                                        backward, v = dy)
//   alpha_dropout:     k = T(u >= threshold)   (u: the layer's float32 uniforms,
//                                               threshold = float32(rate))
//                      out = x * (a * k) + (a_alpha_p * (1 - k) + b)
//                      backward: dx = dy * (a * k)
//                      with a, a_alpha_p = a * alpha_p and b rounded to T once.
//
// Element-wise (parallel_for): bitwise identical at any thread count. Each product
// and sum is rounded on its own (no fused multiply-add: this file is compiled for
// the baseline ISA, as NumPy's separate ufuncs round).
#pragma once

#include <cstddef>

namespace pydl::nn {

template <class T>
void gaussian_noise(const T* x, const float* noise, std::ptrdiff_t n, T* out);

template <class T>
void noise_multiply(const T* v, const float* noise, std::ptrdiff_t n, T* out);

template <class T>
void alpha_dropout_forward(const T* x, const float* u, float threshold, T a, T a_alpha_p, T b,
                           std::ptrdiff_t n, T* out);

template <class T>
void alpha_dropout_backward(const T* dy, const float* u, float threshold, T a, std::ptrdiff_t n,
                            T* dx);

}  // namespace pydl::nn
