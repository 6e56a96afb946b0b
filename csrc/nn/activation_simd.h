// float32 activation row kernels written once over a SIMD vector type V and
// expanded per path in activation__avx2.cpp / activation__avx512.cpp. Same
// formulas as the scalar specification (activation_scalar.h), with the vector
// math of vmath_simd.h; same contracts as activation.h.
//
// Everything is a template on V (cpu/isa.h); no non-template inline function of
// another header (e.g. activation.h's is_elementwise) may be called from here.
#pragma once

#include <cstddef>

#include "nn/activation.h"
#include "nn/vmath_simd.h"

namespace pydl::nn::simd {

using vmath::simd::map;
using vmath::simd::map2;

constexpr float kSeluScale = 1.0507009873554804934193349852946f;
constexpr float kSeluAlpha = 1.6732632423543772848170429916717f;

// y = softmax(x) over one row of n values; x may equal y. The exponentials are
// stored in y, summed lane-wise, then divided by the sum.
template <class V>
void softmax_row(const float* x, float* y, std::ptrdiff_t n) {
    constexpr std::ptrdiff_t L = V::kLanes;
    const float neg_inf = -__builtin_inff();
    V vmax(neg_inf);
    std::ptrdiff_t i = 0;
    for (; i + L <= n; i += L) vmax = max(vmax, V::load(x + i));
    if (i < n) vmax = max(vmax, V::load_partial(x + i, n - i, neg_inf));
    const V m(reduce_max(vmax));
    V sum(0.0f);
    for (i = 0; i + L <= n; i += L) {
        const V e = vmath::simd::exp(V::load(x + i) - m);
        e.store(y + i);
        sum = sum + e;
    }
    if (i < n) {
        const V e = vmath::simd::exp(V::load_partial(x + i, n - i, neg_inf) - m);
        e.store_partial(y + i, n - i);
        sum = sum + e;  // the -inf lanes add exp(-inf) = 0
    }
    const V s(reduce_add(sum));
    map<V>(y, y, n, [&](V e) { return e / s; });
}

// dx = y * (dy - <dy, y>) over one row.
template <class V>
void softmax_backward_row(const float* y, const float* dy, float* dx, std::ptrdiff_t n) {
    constexpr std::ptrdiff_t L = V::kLanes;
    V acc(0.0f);
    std::ptrdiff_t i = 0;
    for (; i + L <= n; i += L) acc = fmadd(V::load(dy + i), V::load(y + i), acc);
    if (i < n) acc = fmadd(V::load_partial(dy + i, n - i, 0.0f), V::load_partial(y + i, n - i, 0.0f), acc);
    const V dot(reduce_add(acc));
    map2<V>(y, dy, dx, n, [&](V yv, V g) { return yv * (g - dot); });
}

// One row of an element-wise activation.
template <class V>
void forward_row(Activation act, float alpha, const float* x, float* y, std::ptrdiff_t n) {
    namespace vm = vmath::simd;
    const V a(alpha);
    switch (act) {
        case Activation::linear:
            if (x != y) map<V>(x, y, n, [](V v) { return v; });
            break;
        case Activation::relu: map<V>(x, y, n, [](V v) { return max(V(0.0f), v); }); break;
        case Activation::sigmoid: map<V>(x, y, n, [](V v) { return vm::sigmoid(v); }); break;
        case Activation::tanh: map<V>(x, y, n, [](V v) { return vm::tanh(v); }); break;
        case Activation::leaky_relu:
            map<V>(x, y, n, [a](V v) { return select(v < V(0.0f), a * v, v); });
            break;
        case Activation::elu:
            map<V>(x, y, n, [a](V v) {
                return select(v > V(0.0f), v, a * vm::expm1_nonpositive(min(V(0.0f), v)));
            });
            break;
        case Activation::selu:
            map<V>(x, y, n, [](V v) {
                const V neg = V(kSeluAlpha) * vm::expm1_nonpositive(min(V(0.0f), v));
                return V(kSeluScale) * select(v > V(0.0f), v, neg);
            });
            break;
        case Activation::gelu:
            map<V>(x, y, n, [](V v) { return vm::gelu(v); });
            break;
        case Activation::softplus:
            map<V>(x, y, n, [](V v) {
                return max(V(0.0f), v) + vm::log1p_unit(vm::exp(-abs(v)));
            });
            break;
        case Activation::silu: map<V>(x, y, n, [](V v) { return vm::silu(v); }); break;
        case Activation::softmax: softmax_row<V>(x, y, n); break;
    }
}

template <class V>
void forward_rows(Activation act, float alpha, const float* x, std::ptrdiff_t ldx, float* y,
                  std::ptrdiff_t ldy, std::ptrdiff_t rows, std::ptrdiff_t cols) {
    for (std::ptrdiff_t r = 0; r < rows; ++r) forward_row<V>(act, alpha, x + r * ldx, y + r * ldy, cols);
}

// dx = dy * f'(.) over n contiguous values; see activation_scalar.h for the forms.
template <class V>
void backward_elements(Activation act, float alpha, const float* z, const float* y,
                       const float* dy, float* dx, std::ptrdiff_t n) {
    namespace vm = vmath::simd;
    const V a(alpha);
    const V zero(0.0f), one(1.0f);
    switch (act) {
        case Activation::linear:
            if (dy != dx) map<V>(dy, dx, n, [](V g) { return g; });
            break;
        case Activation::relu:
            map2<V>(y, dy, dx, n, [=](V yv, V g) { return select(yv > zero, g, zero); });
            break;
        case Activation::sigmoid:
            map2<V>(y, dy, dx, n, [=](V yv, V g) { return g * (yv * (one - yv)); });
            break;
        case Activation::tanh:
            map2<V>(y, dy, dx, n, [=](V yv, V g) { return g * fnmadd(yv, yv, one); });
            break;
        case Activation::leaky_relu:
            map2<V>(y, dy, dx, n, [=](V yv, V g) { return g * select(yv > zero, one, a); });
            break;
        case Activation::elu:
            map2<V>(y, dy, dx, n, [=](V yv, V g) { return g * select(yv > zero, one, yv + a); });
            break;
        case Activation::selu:
            map2<V>(y, dy, dx, n, [=](V yv, V g) {
                return g * select(yv > zero, V(kSeluScale), yv + V(kSeluScale * kSeluAlpha));
            });
            break;
        case Activation::softplus:  // sigmoid(z) = 1 - exp(-y)
            map2<V>(y, dy, dx, n, [](V yv, V g) { return g * -vm::expm1_nonpositive(-yv); });
            break;
        case Activation::gelu:  // Phi(z) + z * phi(z)
            map2<V>(z, dy, dx, n, [](V zv, V g) { return g * vm::gelu_derivative(zv); });
            break;
        case Activation::silu:  // s * (1 + z * (1 - s))
            map2<V>(z, dy, dx, n, [=](V zv, V g) {
                const V s = vm::sigmoid(zv);
                return g * (s * fmadd(zv, one - s, one));
            });
            break;
        case Activation::softmax: break;  // by rows, below
    }
}

template <class V>
void backward_rows(Activation act, float alpha, const float* z, const float* y, const float* dy,
                   float* dx, std::ptrdiff_t rows, std::ptrdiff_t cols) {
    if (act == Activation::softmax) {
        for (std::ptrdiff_t r = 0; r < rows; ++r) {
            softmax_backward_row<V>(y + r * cols, dy + r * cols, dx + r * cols, cols);
        }
    } else {
        backward_elements<V>(act, alpha, z, y, dy, dx, rows * cols);
    }
}

}  // namespace pydl::nn::simd
