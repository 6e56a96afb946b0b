// The skinny-product kernel body (see skinny.h), expanded once per SIMD path:
// the including file defines PYDL_SKINNY_NS (its own namespace) and is compiled
// with that path's flags, so the fixed-size loops below vectorize to its width.
// No include guard on purpose: one expansion per translation unit.
#include <algorithm>

#include "gemm/skinny.h"

namespace pydl::gemm::PYDL_SKINNY_NS {

template <class T>
inline T madd(T x, T y, T acc) {
#if defined(__FMA__)
    if constexpr (sizeof(T) == 4) return __builtin_fmaf(x, y, acc);
    else return __builtin_fma(x, y, acc);
#else
    return x * y + acc;
#endif
}

// R rows x W columns of C; `w` < W only for the last block (then the loops stop at w).
template <class T, int R, int W, bool Full>
inline void block(const SkinnyArgs<T>& s, std::ptrdiff_t j, std::ptrdiff_t w) {
    const std::ptrdiff_t cols = Full ? W : w;
    T acc[R][W];
    for (int r = 0; r < R; ++r)
        for (std::ptrdiff_t jj = 0; jj < cols; ++jj)
            acc[r][jj] = s.accumulate ? s.c[r * s.ldc + j + jj] : (s.bias ? s.bias[j + jj] : T(0));
    for (std::ptrdiff_t p = 0; p < s.k; ++p) {
        const T* brow = s.b + p * s.ldb + j;
        for (int r = 0; r < R; ++r) {
            const T av = s.a[r * s.rs_a + p * s.cs_a];
            for (std::ptrdiff_t jj = 0; jj < cols; ++jj) acc[r][jj] = madd(av, brow[jj], acc[r][jj]);
        }
    }
    for (int r = 0; r < R; ++r)
        for (std::ptrdiff_t jj = 0; jj < cols; ++jj) s.c[r * s.ldc + j + jj] = acc[r][jj];
}

template <class T, int R, int W>
void rows(const SkinnyArgs<T>& s, std::ptrdiff_t j0, std::ptrdiff_t j1) {
    std::ptrdiff_t j = j0;
    for (; j + W <= j1; j += W) block<T, R, W, true>(s, j, W);
    if (j < j1) block<T, R, W, false>(s, j, j1 - j);
}

template <class T, int W>
void skinny(const SkinnyArgs<T>& s, std::ptrdiff_t j0, std::ptrdiff_t j1) {
    switch (s.m) {
        case 1: rows<T, 1, W>(s, j0, j1); break;
        case 2: rows<T, 2, W>(s, j0, j1); break;
        case 3: rows<T, 3, W>(s, j0, j1); break;
        default: rows<T, 4, W>(s, j0, j1); break;
    }
}

}  // namespace pydl::gemm::PYDL_SKINNY_NS
