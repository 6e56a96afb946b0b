// Packing: copies a block of op(A) or op(B) into the micro-panel layout the
// microkernels read (gemm/ukernel.h). Transposes are absorbed here, so the
// matrices themselves are never copied or transposed.
#pragma once

#include <cstddef>

namespace pydl::gemm {

// Packs rows [i0, i0+mb) x columns [p0, p0+kb) of op(A) (op(A) = A, or A^T when
// trans; A row-major with row stride lda) into ceil(mb/mr) panels, panel r at
// dst + r*mr*kb holding dst[p*mr + i] = op(A)[i0 + r*mr + i][p0 + p]; rows past
// mb are zero.
template <class T>
void pack_a(bool trans, const T* a, std::ptrdiff_t lda, std::ptrdiff_t i0, std::ptrdiff_t p0,
            std::ptrdiff_t mb, std::ptrdiff_t kb, int mr, T* dst);

// Packs rows [p0, p0+kb) x columns [j0, j0+nb) of op(B) into ceil(nb/nr)
// panels, panel s at dst + s*nr*kb holding dst[p*nr + j] = op(B)[p0 + p][j0 + s*nr + j];
// columns past nb are zero.
template <class T>
void pack_b(bool trans, const T* b, std::ptrdiff_t ldb, std::ptrdiff_t p0, std::ptrdiff_t j0,
            std::ptrdiff_t kb, std::ptrdiff_t nb, int nr, T* dst);

}  // namespace pydl::gemm
