#include "gemm/pack.h"

#include <algorithm>
#include <cstring>

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

// One panel read along rows that are already in the panel's direction:
// dst[p*R + i] = src[p*stride + i] for i < cols, zero past cols.
template <class T>
void pack_copy(const T* src, std::ptrdiff_t stride, std::ptrdiff_t cols, std::ptrdiff_t len, int r,
               T* dst) {
    for (std::ptrdiff_t p = 0; p < len; ++p) {
        std::memcpy(dst + p * r, src + p * stride, sizeof(T) * cols);
        for (int i = static_cast<int>(cols); i < r; ++i) dst[p * r + i] = T(0);
    }
}

}  // namespace

template <class T>
void pack_a(bool trans, const T* a, std::ptrdiff_t lda, std::ptrdiff_t i0, std::ptrdiff_t p0,
            std::ptrdiff_t mb, std::ptrdiff_t kb, int mr, T* dst) {
    for (std::ptrdiff_t r = 0; r < mb; r += mr, dst += mr * kb) {
        const std::ptrdiff_t rows = std::min<std::ptrdiff_t>(mr, mb - r);
        if (trans)  // op(A)[i][p] = A[p][i]: each p is a run of `rows` contiguous values
            pack_copy(a + p0 * lda + i0 + r, lda, rows, kb, mr, dst);
        else  // op(A)[i][p] = A[i][p]: gather one value from each of `rows` rows per p
            pack_gather_dispatch(mr, a + (i0 + r) * lda + p0, lda, rows, kb, dst);
    }
}

template <class T>
void pack_b(bool trans, const T* b, std::ptrdiff_t ldb, std::ptrdiff_t p0, std::ptrdiff_t j0,
            std::ptrdiff_t kb, std::ptrdiff_t nb, int nr, T* dst) {
    for (std::ptrdiff_t s = 0; s < nb; s += nr, dst += nr * kb) {
        const std::ptrdiff_t cols = std::min<std::ptrdiff_t>(nr, nb - s);
        if (trans)  // op(B)[p][j] = B[j][p]
            pack_gather_dispatch(nr, b + (j0 + s) * ldb + p0, ldb, cols, kb, dst);
        else
            pack_copy(b + p0 * ldb + j0 + s, ldb, cols, kb, nr, dst);
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
