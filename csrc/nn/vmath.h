// Vectorized transcendental functions, accurate to a few ulp, with the C
// library's results at the edges (+-inf, NaN, overflow and underflow).
// Serial (the caller parallelizes); `out` may equal `x`. Dispatches to the
// installed SIMD path.
#pragma once

#include <cstddef>

namespace pydl::vmath {

template <class T>
void exp(const T* x, T* out, std::ptrdiff_t n);
template <class T>
void log(const T* x, T* out, std::ptrdiff_t n);
template <class T>
void tanh(const T* x, T* out, std::ptrdiff_t n);

}  // namespace pydl::vmath
