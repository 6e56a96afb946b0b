// Scalar forms of the activations and their derivatives, on the C library's
// functions: the generic path (float and double) and the specification the SIMD
// paths (activation_simd.h) are tested against. Float values are computed in
// double and rounded once, so the generic float32 path is within about half an
// ulp of the exact result and serves as the oracle of the SIMD paths.
//
// Only for files compiled without ISA flags: these are inline templates on float
// and double, and an AVX copy of one must never be linked into generic callers
// (cpu/isa.h).
#pragma once

#include <cmath>
#include <cstddef>
#include <type_traits>

#include "nn/activation.h"

namespace pydl::nn::scalar {

// SELU constants (Klambauer et al. 2017), as Keras 3 spells them.
template <class T>
constexpr T selu_scale = T(1.0507009873554804934193349852946);
template <class T>
constexpr T selu_alpha = T(1.6732632423543772848170429916717);
template <class T>
constexpr T sqrt1_2 = T(0.70710678118654752440084436210485);
template <class T>
constexpr T inv_sqrt_2pi = T(0.39894228040143267793994605993438);

// 1 / (1 + exp(-x)) without overflow: exp(-|x|) <= 1, and for x < 0 the same
// value is e / (1 + e). Saturates to exactly 1 and (through the subnormals) 0 as
// the C library's exp does.
template <class T>
inline T sigmoid(T x) {
    const T e = std::exp(-std::fabs(x));
    return (x >= 0 ? T(1) : e) / (T(1) + e);
}

// log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)): no overflow, no loss for x << 0.
template <class T>
inline T softplus(T x) {
    return (x > 0 ? x : T(0)) + std::log1p(std::exp(-std::fabs(x)));
}

// Phi(x) = P(N(0,1) <= x) = erfc(-x / sqrt 2) / 2, accurate in the far left tail too.
template <class T>
inline T normal_cdf(T x) {
    return T(0.5) * std::erfc(-x * sqrt1_2<T>);
}

// Element-wise forms, one instantiation per activation so that each loop below
// is free of branches on `act` (and the simple ones vectorize). NaN inputs give
// NaN outputs: every comparison sends NaN to the branch that computes with x.
template <Activation A>
inline double forward_of(double alpha, double x) {
    if constexpr (A == Activation::relu) return x < 0 ? 0.0 : x;
    else if constexpr (A == Activation::sigmoid) return sigmoid(x);
    else if constexpr (A == Activation::tanh) return std::tanh(x);
    else if constexpr (A == Activation::leaky_relu) return x < 0 ? alpha * x : x;
    else if constexpr (A == Activation::elu) return x > 0 ? x : alpha * std::expm1(x);
    else if constexpr (A == Activation::selu)
        return selu_scale<double> * (x > 0 ? x : selu_alpha<double> * std::expm1(x));
    else if constexpr (A == Activation::gelu) return x * normal_cdf(x);
    else if constexpr (A == Activation::softplus) return softplus(x);
    else if constexpr (A == Activation::silu) return x * sigmoid(x);
    else return x;  // linear
}

// f'(z) from y = f(z) for the activations where needs_preactivation is false.
// The y-forms of relu, leaky_relu and elu take y > 0 as z > 0, which holds for
// alpha >= 0 (the bindings reject a negative alpha for them).
template <Activation A>
inline double derivative_of_output(double alpha, double y) {
    if constexpr (A == Activation::relu) return y > 0 ? 1.0 : 0.0;
    else if constexpr (A == Activation::sigmoid) return y * (1 - y);
    else if constexpr (A == Activation::tanh) return 1 - y * y;
    else if constexpr (A == Activation::leaky_relu) return y > 0 ? 1.0 : alpha;
    else if constexpr (A == Activation::elu) return y > 0 ? 1.0 : y + alpha;  // alpha*e^z = y + alpha
    else if constexpr (A == Activation::selu)
        return y > 0 ? selu_scale<double> : y + selu_scale<double> * selu_alpha<double>;
    else if constexpr (A == Activation::softplus) return -std::expm1(-y);  // sigmoid(z) = 1 - e^-y
    else return 1.0;  // linear
}

// f'(z) for gelu and silu.
template <Activation A>
inline double derivative_of_input(double z) {
    if constexpr (A == Activation::gelu) {
        return normal_cdf(z) + z * inv_sqrt_2pi<double> * std::exp(-0.5 * z * z);
    } else {
        const double s = sigmoid(z);  // silu: d/dz z*s(z) = s + z*s*(1-s)
        return s * (1 + z * (1 - s));
    }
}

// y = softmax(x) over one row of n values; x may equal y. Computed in double;
// the exponentials are computed twice so that they are never rounded to T.
template <class T>
inline void softmax_row(const T* x, T* y, std::ptrdiff_t n) {
    double m = -INFINITY;
    for (std::ptrdiff_t i = 0; i < n; ++i) m = x[i] > m ? x[i] : m;
    double sum = 0;
    for (std::ptrdiff_t i = 0; i < n; ++i) sum += std::exp(double(x[i]) - m);
    for (std::ptrdiff_t i = 0; i < n; ++i) y[i] = static_cast<T>(std::exp(double(x[i]) - m) / sum);
}

// dx = y * (dy - <dy, y>) over one row; dx may equal dy or y.
template <class T>
inline void softmax_backward_row(const T* y, const T* dy, T* dx, std::ptrdiff_t n) {
    double dot = 0;
    for (std::ptrdiff_t i = 0; i < n; ++i) dot += double(dy[i]) * y[i];
    for (std::ptrdiff_t i = 0; i < n; ++i) dx[i] = static_cast<T>(y[i] * (dy[i] - dot));
}

template <Activation A, class T>
void forward_rows_of(double alpha, const T* x, std::ptrdiff_t ldx, T* y, std::ptrdiff_t ldy,
                     std::ptrdiff_t rows, std::ptrdiff_t cols) {
    for (std::ptrdiff_t r = 0; r < rows; ++r) {
        const T* xr = x + r * ldx;
        T* yr = y + r * ldy;
        if constexpr (A == Activation::softmax) {
            softmax_row(xr, yr, cols);
        } else {
            for (std::ptrdiff_t c = 0; c < cols; ++c)
                yr[c] = static_cast<T>(forward_of<A>(alpha, xr[c]));
        }
    }
}

template <Activation A, class T>
void backward_of(double alpha, const T* z, const T* y, const T* dy, T* dx, std::ptrdiff_t rows,
                 std::ptrdiff_t cols) {
    const std::ptrdiff_t n = rows * cols;
    if constexpr (A == Activation::softmax) {
        for (std::ptrdiff_t r = 0; r < rows; ++r)
            softmax_backward_row(y + r * cols, dy + r * cols, dx + r * cols, cols);
    } else if constexpr (A == Activation::gelu || A == Activation::silu) {
        for (std::ptrdiff_t i = 0; i < n; ++i)
            dx[i] = static_cast<T>(dy[i] * derivative_of_input<A>(z[i]));
    } else if constexpr (A == Activation::linear) {
        for (std::ptrdiff_t i = 0; i < n; ++i) dx[i] = dy[i];
    } else if constexpr (A == Activation::relu) {
        for (std::ptrdiff_t i = 0; i < n; ++i) dx[i] = y[i] > 0 ? dy[i] : T(0);
    } else {
        for (std::ptrdiff_t i = 0; i < n; ++i)
            dx[i] = static_cast<T>(dy[i] * derivative_of_output<A>(alpha, y[i]));
    }
}

// Calls fn(std::integral_constant<Activation, act>{}): one branch on `act`, then
// code specialized for it.
template <class Fn>
void with_activation(Activation act, Fn&& fn) {
    using A = Activation;
    switch (act) {
        case A::linear: return fn(std::integral_constant<A, A::linear>{});
        case A::relu: return fn(std::integral_constant<A, A::relu>{});
        case A::sigmoid: return fn(std::integral_constant<A, A::sigmoid>{});
        case A::tanh: return fn(std::integral_constant<A, A::tanh>{});
        case A::softmax: return fn(std::integral_constant<A, A::softmax>{});
        case A::leaky_relu: return fn(std::integral_constant<A, A::leaky_relu>{});
        case A::elu: return fn(std::integral_constant<A, A::elu>{});
        case A::selu: return fn(std::integral_constant<A, A::selu>{});
        case A::gelu: return fn(std::integral_constant<A, A::gelu>{});
        case A::softplus: return fn(std::integral_constant<A, A::softplus>{});
        case A::silu: return fn(std::integral_constant<A, A::silu>{});
    }
}

template <class T>
void forward_rows(Activation act, T alpha, const T* x, std::ptrdiff_t ldx, T* y,
                  std::ptrdiff_t ldy, std::ptrdiff_t rows, std::ptrdiff_t cols) {
    with_activation(act, [&](auto a) {
        forward_rows_of<decltype(a)::value>(alpha, x, ldx, y, ldy, rows, cols);
    });
}

template <class T>
void backward_rows(Activation act, T alpha, const T* z, const T* y, const T* dy, T* dx,
                   std::ptrdiff_t rows, std::ptrdiff_t cols) {
    with_activation(act, [&](auto a) {
        backward_of<decltype(a)::value>(alpha, z, y, dy, dx, rows, cols);
    });
}

}  // namespace pydl::nn::scalar
