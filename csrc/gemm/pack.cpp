#include "gemm/pack.h"

#include <algorithm>

#if defined(__SSE2__)
#include <emmintrin.h>
#include <xmmintrin.h>
#endif

namespace pydl::gemm {
namespace {

// Transposes a 4 x 4 block of floats (or 2 x 2 of doubles): dst[q*ld_dst + r] =
// src[r*ld_src + q]. SSE2 is part of the x86-64 baseline, so this needs no
// dispatch; other hosts use the scalar loop.
#if defined(__SSE2__)
constexpr bool kHaveBlockTranspose = true;
inline void transpose_block(const float* __restrict src, std::ptrdiff_t ld_src,
                            float* __restrict dst, std::ptrdiff_t ld_dst) {
    __m128 r0 = _mm_loadu_ps(src), r1 = _mm_loadu_ps(src + ld_src);
    __m128 r2 = _mm_loadu_ps(src + 2 * ld_src), r3 = _mm_loadu_ps(src + 3 * ld_src);
    _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
    _mm_storeu_ps(dst, r0);
    _mm_storeu_ps(dst + ld_dst, r1);
    _mm_storeu_ps(dst + 2 * ld_dst, r2);
    _mm_storeu_ps(dst + 3 * ld_dst, r3);
}
inline void transpose_block(const double* __restrict src, std::ptrdiff_t ld_src,
                            double* __restrict dst, std::ptrdiff_t ld_dst) {
    const __m128d r0 = _mm_loadu_pd(src), r1 = _mm_loadu_pd(src + ld_src);
    _mm_storeu_pd(dst, _mm_unpacklo_pd(r0, r1));
    _mm_storeu_pd(dst + ld_dst, _mm_unpackhi_pd(r0, r1));
}
#else
constexpr bool kHaveBlockTranspose = false;
template <class T>
inline void transpose_block(const T*, std::ptrdiff_t, T*, std::ptrdiff_t) {}
#endif

// One panel of `rows` (<= R) strided source rows, read along their unit-stride
// direction: dst[p*R + i] = src[i*stride + p], zero for i >= rows. Full panels
// go through block transposes (4 x 4 floats, 2 x 2 doubles).
template <class T, int R>
void pack_gather(const T* __restrict src, std::ptrdiff_t stride, std::ptrdiff_t rows,
                 std::ptrdiff_t len, T* __restrict dst) {
    constexpr int B = 16 / sizeof(T);  // block edge
    std::ptrdiff_t p = 0;
    if (kHaveBlockTranspose && rows == R && R % B == 0) {
        for (; p + B <= len; p += B)
            for (int i = 0; i < R; i += B) transpose_block(src + i * stride + p, stride, dst + p * R + i, R);
    }
    for (int i = 0; i < R; ++i) {
        if (i < rows)
            for (std::ptrdiff_t q = p; q < len; ++q) dst[q * R + i] = src[i * stride + q];
        else
            for (std::ptrdiff_t q = p; q < len; ++q) dst[q * R + i] = T(0);
    }
}

template <class T>
void pack_gather_dispatch(int r, const T* src, std::ptrdiff_t stride, std::ptrdiff_t rows,
                          std::ptrdiff_t len, T* dst) {
    switch (r) {
        case 4: return pack_gather<T, 4>(src, stride, rows, len, dst);
        case 6: return pack_gather<T, 6>(src, stride, rows, len, dst);
        case 8: return pack_gather<T, 8>(src, stride, rows, len, dst);
        case 12: return pack_gather<T, 12>(src, stride, rows, len, dst);
        case 14: return pack_gather<T, 14>(src, stride, rows, len, dst);
        case 16: return pack_gather<T, 16>(src, stride, rows, len, dst);
        case 32: return pack_gather<T, 32>(src, stride, rows, len, dst);
        case 48: return pack_gather<T, 48>(src, stride, rows, len, dst);
        case 64: return pack_gather<T, 64>(src, stride, rows, len, dst);
        default:
            for (std::ptrdiff_t p = 0; p < len; ++p)
                for (int i = 0; i < r; ++i) dst[p * r + i] = i < rows ? src[i * stride + p] : T(0);
    }
}

// `len` runs of R values: dst[p*dst_stride + i] = src[p*stride + i] for
// i < cols, zero past cols. R is a template parameter so that a full run is a
// fixed-size, vectorized copy (no memcpy call per run: runs are only MR or NR
// values long).
template <class T, int R>
void pack_copy(const T* __restrict src, std::ptrdiff_t stride, std::ptrdiff_t cols,
               std::ptrdiff_t len, T* __restrict dst, std::ptrdiff_t dst_stride) {
    if (cols == R) {
        for (std::ptrdiff_t p = 0; p < len; ++p, src += stride, dst += dst_stride)
            for (int i = 0; i < R; ++i) dst[i] = src[i];
        return;
    }
    for (std::ptrdiff_t p = 0; p < len; ++p, src += stride, dst += dst_stride)
        for (int i = 0; i < R; ++i) dst[i] = i < cols ? src[i] : T(0);
}

template <class T>
void pack_copy_dispatch(int r, const T* src, std::ptrdiff_t stride, std::ptrdiff_t cols,
                        std::ptrdiff_t len, T* dst, std::ptrdiff_t dst_stride) {
    switch (r) {
        case 4: return pack_copy<T, 4>(src, stride, cols, len, dst, dst_stride);
        case 6: return pack_copy<T, 6>(src, stride, cols, len, dst, dst_stride);
        case 8: return pack_copy<T, 8>(src, stride, cols, len, dst, dst_stride);
        case 12: return pack_copy<T, 12>(src, stride, cols, len, dst, dst_stride);
        case 16: return pack_copy<T, 16>(src, stride, cols, len, dst, dst_stride);
        case 32: return pack_copy<T, 32>(src, stride, cols, len, dst, dst_stride);
        case 48: return pack_copy<T, 48>(src, stride, cols, len, dst, dst_stride);
        case 64: return pack_copy<T, 64>(src, stride, cols, len, dst, dst_stride);
        default:
            for (std::ptrdiff_t p = 0; p < len; ++p)
                for (int i = 0; i < r; ++i)
                    dst[p * dst_stride + i] = i < cols ? src[p * stride + i] : T(0);
    }
}

}  // namespace

template <class T>
void pack_a(bool trans, const T* a, std::ptrdiff_t lda, std::ptrdiff_t i0, std::ptrdiff_t p0,
            std::ptrdiff_t mb, std::ptrdiff_t kb, int mr, T* dst) {
    for (std::ptrdiff_t r = 0; r < mb; r += mr, dst += mr * kb) {
        const std::ptrdiff_t rows = std::min<std::ptrdiff_t>(mr, mb - r);
        if (trans)  // op(A)[i][p] = A[p][i]: each p is a run of `rows` contiguous values
            pack_copy_dispatch(mr, a + p0 * lda + i0 + r, lda, rows, kb, dst, mr);
        else  // op(A)[i][p] = A[i][p]: gather one value from each of `rows` rows per p
            pack_gather_dispatch(mr, a + (i0 + r) * lda + p0, lda, rows, kb, dst);
    }
}

template <class T>
void pack_b(bool trans, const T* b, std::ptrdiff_t ldb, std::ptrdiff_t p0, std::ptrdiff_t j0,
            std::ptrdiff_t kb, std::ptrdiff_t nb, int nr, T* dst) {
    if (!trans) {
        // Row by row across all full panels: B is read sequentially (the
        // prefetcher streams it from memory) and each panel gets one short row.
        // Eight rows at a time: eight sequential read streams, and each panel
        // receives a contiguous run of 8 * nr values (no cache-set conflicts
        // from writing one short row per panel at a power-of-two stride).
        const std::ptrdiff_t full = nb / nr;
        constexpr std::ptrdiff_t kRows = 8;
        for (std::ptrdiff_t q = 0; q < kb; q += kRows) {
            const std::ptrdiff_t rows = std::min(kRows, kb - q);
            for (std::ptrdiff_t s = 0; s < full; ++s)
                pack_copy_dispatch(nr, b + (p0 + q) * ldb + j0 + s * nr, ldb, nr, rows,
                                   dst + s * nr * kb + q * nr, nr);
        }
        if (full * nr < nb)
            pack_copy_dispatch(nr, b + p0 * ldb + j0 + full * nr, ldb, nb - full * nr, kb,
                               dst + full * nr * kb, nr);
        return;
    }
    for (std::ptrdiff_t s = 0; s < nb; s += nr, dst += nr * kb) {
        const std::ptrdiff_t cols = std::min<std::ptrdiff_t>(nr, nb - s);
        // op(B)[p][j] = B[j][p]
        pack_gather_dispatch(nr, b + (j0 + s) * ldb + p0, ldb, cols, kb, dst);
    }
}

template void pack_a<float>(bool, const float*, std::ptrdiff_t, std::ptrdiff_t, std::ptrdiff_t,
                            std::ptrdiff_t, std::ptrdiff_t, int, float*);
template void pack_a<double>(bool, const double*, std::ptrdiff_t, std::ptrdiff_t, std::ptrdiff_t,
                             std::ptrdiff_t, std::ptrdiff_t, int, double*);
template void pack_b<float>(bool, const float*, std::ptrdiff_t, std::ptrdiff_t, std::ptrdiff_t,
                            std::ptrdiff_t, std::ptrdiff_t, int, float*);
template void pack_b<double>(bool, const double*, std::ptrdiff_t, std::ptrdiff_t, std::ptrdiff_t,
                             std::ptrdiff_t, std::ptrdiff_t, int, double*);

}  // namespace pydl::gemm
