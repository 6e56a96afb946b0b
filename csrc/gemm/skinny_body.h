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

// How the product streams B: a chunk of C's columns (kChunkBytes of
// accumulators in all, in L1) stays put while B's rows are read in order,
// four at a time, each row a contiguous run the hardware prefetcher follows --
// where walking all of K for one narrow block of columns would jump a page per
// row once B is wide.
constexpr std::ptrdiff_t kChunkBytes = 16384;
constexpr std::ptrdiff_t kRowsPerPass = 4;

// Columns per chunk for R rows: whole register blocks of W columns.
template <class T, int R, int W>
constexpr std::ptrdiff_t chunk_columns() {
    return kChunkBytes / (R * static_cast<std::ptrdiff_t>(sizeof(T))) / W * W;
}

// C[0:R, j0:j1] with j1 - j0 <= kChunk columns. Every value of C is one chain of
// multiply-adds in K order from its initial value (the contract of skinny.h and
// of the blocked path: the same bits whichever path or thread computes it).
template <class T, int R, std::ptrdiff_t kChunk>
void chunk(const SkinnyArgs<T>& s, std::ptrdiff_t j0, std::ptrdiff_t j1) {
    const std::ptrdiff_t w = j1 - j0;
    alignas(64) T acc[R][kChunk];
    for (int r = 0; r < R; ++r)
        for (std::ptrdiff_t jj = 0; jj < w; ++jj)
            acc[r][jj] = s.accumulate ? s.c[r * s.ldc + j0 + jj] : (s.bias ? s.bias[j0 + jj] : T(0));
    std::ptrdiff_t p = 0;
    for (; p + kRowsPerPass <= s.k; p += kRowsPerPass) {
        const T* __restrict b0 = s.b + p * s.ldb + j0;
        const T* __restrict b1 = b0 + s.ldb;
        const T* __restrict b2 = b1 + s.ldb;
        const T* __restrict b3 = b2 + s.ldb;
        for (int r = 0; r < R; ++r) {
            const T* ar = s.a + r * s.rs_a + p * s.cs_a;
            const T a0 = ar[0], a1 = ar[s.cs_a], a2 = ar[2 * s.cs_a], a3 = ar[3 * s.cs_a];
            T* __restrict cr = acc[r];
#pragma GCC ivdep
            for (std::ptrdiff_t jj = 0; jj < w; ++jj)
                cr[jj] = madd(a3, b3[jj], madd(a2, b2[jj], madd(a1, b1[jj], madd(a0, b0[jj], cr[jj]))));
        }
    }
    for (; p < s.k; ++p) {
        const T* __restrict bp = s.b + p * s.ldb + j0;
        for (int r = 0; r < R; ++r) {
            const T av = s.a[r * s.rs_a + p * s.cs_a];
            T* __restrict cr = acc[r];
#pragma GCC ivdep
            for (std::ptrdiff_t jj = 0; jj < w; ++jj) cr[jj] = madd(av, bp[jj], cr[jj]);
        }
    }
    for (int r = 0; r < R; ++r)
        for (std::ptrdiff_t jj = 0; jj < w; ++jj) s.c[r * s.ldc + j0 + jj] = acc[r][jj];
}

template <class T, int R, int W>
void rows(const SkinnyArgs<T>& s, std::ptrdiff_t j0, std::ptrdiff_t j1) {
    constexpr std::ptrdiff_t kChunk = chunk_columns<T, R, W>();
    static_assert(kChunk >= W, "a chunk holds at least one column block");
    for (std::ptrdiff_t j = j0; j < j1; j += kChunk)
        chunk<T, R, kChunk>(s, j, std::min(j1, j + kChunk));
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
