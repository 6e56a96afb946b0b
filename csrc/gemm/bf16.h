// float32 products with bfloat16 operands: the contract of the bf16 GEMM path.
//
// gemm(..., Operands::bf16) computes C = act(op(A) . op(B) + bias) where every
// value of A and B is first rounded to bfloat16 and the products are summed in
// float32. Nothing else is rounded: C, the bias and the epilogue stay float32.
//
// Rounding (in the packing, gemm/pack_bf16.h; VCVTNE2PS2BF16 does exactly this):
//
//     bf16(x) = NaN                      -> a quiet NaN (sign and top payload kept)
//               |x| < 2^-126 (subnormal) -> +-0 (sign kept)
//               else                     -> the upper 16 bits of x rounded to
//                                           nearest, ties to even (may give +-inf)
//
// Pairs. K is read two values at a time: pair q holds k = 2q and 2q + 1 (the
// last pair of an odd K, or of the last K block, is padded with a zero in both
// A and B). The packed operands are arrays of uint32, one pair each: the low
// 16 bits hold the even k, the high 16 bits the odd k. The microkernel contract
// is gemm/ukernel.h's with k counting pairs and one multiply-add per pair:
//
//     acc = flush(round(flush(round(acc + a1*b1)) + a0*b0))
//
// where a0*b0 and a1*b1 are the exact products of the even and odd halves,
// round() rounds to float32 (nearest even, unbounded exponent) and flush() sets
// results below 2^-126 in magnitude to zero; an accumulator below 2^-126 reads
// as zero. This is VDPBF16PS (AVX512_BF16) as Intel documents it and as
// measured on AMD Zen 4; tests/core/test_gemm_bf16.py checks it bit for bit.
//
// Determinism: K blocks are cut at even k (except at the end of K), so the
// pairs and the order of the multiply-adds depend on K alone; threads split M
// and N only: results are bitwise identical at any thread count.
//
// Packed layouts (P = uint32 pair; kq = ceil(kb / 2) pairs per block), as
// gemm/ukernel.h's with pairs for values: A panel r: dst[q*MR + i] (the `packed`
// entry); B panel s: dst[q*NR + j] (ldb = NR). Rows of a panel past the matrix
// edge and columns past it are zero. Either operand, transposed or not, is packed
// from the stored rows: two rows interleaved, or 16 rows transposed
// (gemm/pack_bf16__avx512_bf16.cpp).
#pragma once

namespace pydl::gemm {

// How the operands of a float product are read.
enum class Operands {
    as_is,  // in their own type
    bf16,   // rounded to bfloat16, float32 accumulation (float32 only; where the
            // CPU lacks AVX512_BF16 the product runs as_is)
};

// Whether bf16 products run bf16 kernels now (the avx512_bf16 path is installed).
bool bf16_kernels_installed();

}  // namespace pydl::gemm
