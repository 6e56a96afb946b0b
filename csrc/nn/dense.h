// Dense (fully connected) layer kernels on raw row-major arrays: the functions
// behind `_core.dense_forward` / `_core.dense_backward`, also called directly by
// the fused training plan (csrc/plan). Shapes: x (batch, in), w (in, out),
// b (out), z / y / dy / dz (batch, out), dx (batch, in), dw (in, out), db (out).
// Outputs must not overlap the inputs (except dz, which may be dy). Parallel
// inside (cpu/threads.h) and bitwise identical at any thread count.
//
// `operands` is the mixed-precision rule, written here once for the tape's
// dense op and the plan's Dense node: with gemm::Operands::bf16 the three matrix
// products (x . w, x^T . dz, dz . w^T) read x, w and dz rounded to bfloat16 and
// sum in float32 (gemm/bf16.h); z, y, the activation and its derivative, db and
// every output stay float32.
#pragma once

#include <cstddef>

#include "gemm/bf16.h"
#include "nn/activation.h"

namespace pydl::nn {

// z = x . w + b (b may be nullptr), y = act(z). z may be nullptr: then the bias
// and an element-wise activation are fused into the GEMM's tile epilogue and no
// pre-activation is kept (callers keep z when needs_preactivation(act)).
template <class T>
void dense_forward(const T* x, const T* w, const T* b, std::ptrdiff_t batch, std::ptrdiff_t in,
                   std::ptrdiff_t out, Activation act, T alpha, T* y, T* z,
                   gemm::Operands operands = gemm::Operands::as_is);

// dz = dy * act'(z) (softmax: the Jacobian product with y), dw = x^T . dz,
// db = column sums of dz, dx = dz . w^T. z may be nullptr unless
// needs_preactivation(act); y may be nullptr when it is needed neither (linear
// or needs_preactivation). dz is scratch and may equal dy (for linear it is
// not written: dy is used directly). dx, dw and db may be nullptr (not computed:
// a frozen layer wants no dw).
template <class T>
void dense_backward(const T* x, const T* w, const T* z, const T* y, const T* dy,
                    std::ptrdiff_t batch, std::ptrdiff_t in, std::ptrdiff_t out, Activation act,
                    T alpha, T* dz, T* dx, T* dw, T* db,
                    gemm::Operands operands = gemm::Operands::as_is);

// db[j] = sum over rows r (in order) of dz[r*out + j]; parallel over columns.
template <class T>
void column_sums(const T* dz, std::ptrdiff_t rows, std::ptrdiff_t cols, T* db);

}  // namespace pydl::nn
