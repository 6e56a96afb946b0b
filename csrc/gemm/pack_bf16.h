// Packing with rounding to bfloat16: the float32 operands of a bf16 product
// (gemm/bf16.h) are rounded as they are copied into the micro-panel layouts the
// bf16 microkernel reads, so no pass over memory is spent on converting them.
// Transposes are absorbed here, as in gemm/pack.h. Pairs of K are uint32 (low
// half: even k); kq = ceil(kb / 2) pairs per block; an odd kb is padded with zero.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pydl::gemm::avx512_bf16 {

// Rows [i0, i0+mb) x columns [p0, p0+kb) of op(A) into ceil(mb/mr) panels, panel
// r at dst + r*mr*kq holding dst[q*mr + i]; rows past mb are zero. mr <= 16 or a
// multiple of 16.
void pack_a(bool trans, const float* a, std::ptrdiff_t lda, std::ptrdiff_t i0, std::ptrdiff_t p0,
            std::ptrdiff_t mb, std::ptrdiff_t kb, int mr, std::uint32_t* dst);

// Rows [p0, p0+kb) x columns [j0, j0+nb) of op(B) into ceil(nb/nr) panels, panel s
// at dst + s*nr*kq holding dst[q*nr + j]; columns past nb are zero. nr <= 16 or a
// multiple of 16.
void pack_b(bool trans, const float* b, std::ptrdiff_t ldb, std::ptrdiff_t p0, std::ptrdiff_t j0,
            std::ptrdiff_t kb, std::ptrdiff_t nb, int nr, std::uint32_t* dst);

}  // namespace pydl::gemm::avx512_bf16
