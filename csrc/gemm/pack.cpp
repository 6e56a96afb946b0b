#include "gemm/pack.h"

#include <algorithm>

namespace pydl::gemm {
namespace {

// One panel of `rows` (<= R) strided source rows, read along their unit-stride
// direction: dst[p*R + i] = src[i*stride + p]. The tile size is a template
// parameter so that the inner loop unrolls (R values per p).
template <class T, int R>
void pack_gather(const T* src, std::ptrdiff_t stride, std::ptrdiff_t rows, std::ptrdiff_t len,
                 T* dst) {
    if (rows == R) {
        const T* s[R];
        for (int i = 0; i < R; ++i) s[i] = src + i * stride;
        for (std::ptrdiff_t p = 0; p < len; ++p)
            for (int i = 0; i < R; ++i) dst[p * R + i] = s[i][p];
        return;
    }
    for (std::ptrdiff_t p = 0; p < len; ++p)
        for (int i = 0; i < R; ++i) dst[p * R + i] = i < rows ? src[i * stride + p] : T(0);
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
void pack_copy(const T* src, std::ptrdiff_t stride, std::ptrdiff_t cols, std::ptrdiff_t len,
               T* dst, std::ptrdiff_t dst_stride) {
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
        const std::ptrdiff_t full = nb / nr;
        for (std::ptrdiff_t p = 0; p < kb; ++p)
            pack_copy_dispatch(nr, b + (p0 + p) * ldb + j0, nr, nr, full, dst + p * nr,
                               nr * kb);
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
