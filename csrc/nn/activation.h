// Activations: forward and backward kernels shared by the bindings, the GEMM
// epilogue (csrc/gemm) and dense backward (csrc/nn/dense*).
//
// The *_rows functions are serial: they run on the calling thread, so that the
// GEMM epilogue can call them on a tile from inside its own parallel region.
// Callers parallelize over rows (cpu/threads.h parallel_for). Each dispatches to
// the installed SIMD path (cpu/isa.h).
#pragma once

#include <cstddef>
#include <string>

namespace pydl::nn {

enum class Activation : int {
    linear,
    relu,
    sigmoid,
    tanh,
    softmax,  // over each row (the last axis)
    leaky_relu,
    elu,
    selu,
    gelu,  // exact erf form (Keras 3 default)
    softplus,
    silu,
};

// Parses a name from docs/core_api.md; false when unknown.
bool parse_activation(const std::string& name, Activation* out);
// "linear, relu, ..." for error messages.
const char* activation_names();
// True when backward needs the pre-activation z, not only y = f(z).
bool needs_preactivation(Activation act);
// True for activations applied element by element (all but softmax).
inline bool is_elementwise(Activation act) { return act != Activation::softmax; }

// y[r*ldy + c] = f(x[r*ldx + c]) for r < rows, c < cols; softmax normalizes
// each row of `cols` values. x may equal y (in place). `alpha` is the slope of
// leaky_relu and the alpha of elu.
template <class T>
void activation_forward_rows(Activation act, T alpha, const T* x, std::ptrdiff_t ldx, T* y,
                             std::ptrdiff_t ldy, std::ptrdiff_t rows, std::ptrdiff_t cols);

// dx = dy * f'(z) over `rows` contiguous rows of `cols` values (softmax: the
// Jacobian-vector product with y). z may be nullptr unless
// needs_preactivation(act); y may be nullptr when needs_preactivation(act) is
// true. dx may equal dy.
// relu, leaky_relu and elu read the sign of z from y (y > 0 <=> z > 0), which
// holds for alpha >= 0 only; the bindings reject a negative alpha for them.
template <class T>
void activation_backward_rows(Activation act, T alpha, const T* z, const T* y, const T* dy,
                              T* dx, std::ptrdiff_t rows, std::ptrdiff_t cols);

}  // namespace pydl::nn

namespace pydl::nn {

// Threaded drivers over `rows` contiguous rows of `cols` values: element-wise
// activations split over flat element ranges, softmax over rows (activation_driver.cpp).
// Each value is computed by one thread in a fixed way: bitwise identical at any
// thread count. Used by `_core.activation_forward/backward` and the fused plan.
template <class T>
void activation_forward(Activation act, T alpha, const T* x, T* y, std::ptrdiff_t rows,
                        std::ptrdiff_t cols);
template <class T>
void activation_backward(Activation act, T alpha, const T* z, const T* y, const T* dy, T* dx,
                         std::ptrdiff_t rows, std::ptrdiff_t cols);

}  // namespace pydl::nn
