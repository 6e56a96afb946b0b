// The bfloat16 packers (gemm/pack_bf16.h) with AVX512_BF16: VCVTNE2PS2BF16
// rounds 32 floats to nearest even (NaN quieted, subnormals to zero: gemm/bf16.h)
// into one register, and three layouts follow from it:
//   - two rows of the stored matrix interleaved (VPERMW): pairs across columns;
//   - 16 rows of the stored matrix (pairs come out as they lie in a row),
//     transposed as a 16 x 16 block of pairs.
// Edges (columns past the matrix, an odd K) read as zero through masked loads.
#include <immintrin.h>

#include <algorithm>

#include "gemm/pack_bf16.h"

namespace pydl::gemm::avx512_bf16 {
namespace {

using std::ptrdiff_t;
using std::uint32_t;

__mmask16 first16(ptrdiff_t n) {
    if (n >= 16) return static_cast<__mmask16>(0xffff);
    return n <= 0 ? __mmask16(0) : static_cast<__mmask16>((1u << n) - 1u);
}

// Up to 32 floats at p (n of them; the rest read as zero) rounded to 16 pairs.
__m512i round_run(const float* p, ptrdiff_t n) {
    const __m512 lo = _mm512_maskz_loadu_ps(first16(n), p);
    const __m512 hi = _mm512_maskz_loadu_ps(first16(n - 16), p + 16);
    return reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(hi, lo));
}

// Pairs (r0[j], r1[j]) for the 16 lanes j of two rows of floats.
__m512i interleave(__m512 r0, __m512 r1) {
    const __m512i order = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9,
                                           24, 8, 23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1,
                                           16, 0);
    const __m512i both = reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(r1, r0));
    return _mm512_permutexvar_epi16(order, both);
}

// r[i][j] -> r[j][i] for a 16 x 16 block of uint32.
void transpose16(__m512i r[16]) {
    __m512i a[16], b[16];
    for (int i = 0; i < 8; ++i) {
        a[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
        a[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
    }
    // b[4i + c], 128-bit lane L: column 4L + c of rows 4i .. 4i+3.
    for (int i = 0; i < 4; ++i) {
        b[4 * i] = _mm512_unpacklo_epi64(a[4 * i], a[4 * i + 2]);
        b[4 * i + 1] = _mm512_unpackhi_epi64(a[4 * i], a[4 * i + 2]);
        b[4 * i + 2] = _mm512_unpacklo_epi64(a[4 * i + 1], a[4 * i + 3]);
        b[4 * i + 3] = _mm512_unpackhi_epi64(a[4 * i + 1], a[4 * i + 3]);
    }
    // Column 4L + c gathers lane L of b[c], b[4+c], b[8+c], b[12+c].
    for (int c = 0; c < 4; ++c) {
        const __m512i x0 = _mm512_shuffle_i32x4(b[c], b[4 + c], 0x44);
        const __m512i x1 = _mm512_shuffle_i32x4(b[c], b[4 + c], 0xee);
        const __m512i y0 = _mm512_shuffle_i32x4(b[8 + c], b[12 + c], 0x44);
        const __m512i y1 = _mm512_shuffle_i32x4(b[8 + c], b[12 + c], 0xee);
        r[c] = _mm512_shuffle_i32x4(x0, y0, 0x88);
        r[4 + c] = _mm512_shuffle_i32x4(x0, y0, 0xdd);
        r[8 + c] = _mm512_shuffle_i32x4(x1, y1, 0x88);
        r[12 + c] = _mm512_shuffle_i32x4(x1, y1, 0xdd);
    }
}

// Pairs of the stored rows p0 + 2q, p0 + 2q + 1 across `width` of its columns
// (`cols` of them real): panel s of `width` columns at dst + s*width*kq,
// dst[q*width + j]. op(B) not transposed, and op(A) transposed.
void pack_row_pairs(const float* src, ptrdiff_t ld, ptrdiff_t p0, ptrdiff_t j0, ptrdiff_t kb,
                    ptrdiff_t nb, int width, uint32_t* dst) {
    const ptrdiff_t kq = (kb + 1) / 2, panels = (nb + width - 1) / width;
    constexpr ptrdiff_t kPairs = 4;  // 8 source rows at a time: a contiguous run per panel
    for (ptrdiff_t q0 = 0; q0 < kq; q0 += kPairs) {
        const ptrdiff_t q1 = std::min(kq, q0 + kPairs);
        for (ptrdiff_t s = 0; s < panels; ++s) {
            const ptrdiff_t cols = std::min<ptrdiff_t>(width, nb - s * width);
            for (ptrdiff_t q = q0; q < q1; ++q) {
                const float* r0 = src + (p0 + 2 * q) * ld + j0 + s * width;
                const bool odd_end = 2 * q + 1 >= kb;
                uint32_t* out = dst + s * width * kq + q * width;
                for (int v = 0; v < width; v += 16) {
                    const __mmask16 m = first16(cols - v);
                    const __m512 x0 = _mm512_maskz_loadu_ps(m, r0 + v);
                    const __m512 x1 = odd_end ? _mm512_setzero_ps()
                                              : _mm512_maskz_loadu_ps(m, r0 + ld + v);
                    _mm512_mask_storeu_epi32(out + v, first16(width - v), interleave(x0, x1));
                }
            }
        }
    }
}

// Pairs along the stored rows: op(X)[p][j] = X[j][p] for rows j0.. of X (each
// contiguous in p): panel s of `width` columns at dst + s*width*kq, dst[q*width + j]
// (columns past nb zero). 16 rows x 16 pairs at a time, rounded and transposed.
// op(B) transposed, and op(A) not transposed (its rows are X's).
void pack_transposed(const float* src, ptrdiff_t ld, ptrdiff_t p0, ptrdiff_t j0, ptrdiff_t kb,
                     ptrdiff_t nb, int width, uint32_t* dst) {
    const ptrdiff_t kq = (kb + 1) / 2, panels = (nb + width - 1) / width;
    for (ptrdiff_t s = 0; s < panels; ++s) {
        for (int v = 0; v < width; v += 16) {
            const ptrdiff_t j = s * width + v;  // the group's first column
            const ptrdiff_t cols = std::max<ptrdiff_t>(0, std::min<ptrdiff_t>(16, nb - j));
            const __mmask16 lanes = first16(width - v);
            uint32_t* out = dst + s * width * kq + v;
            for (ptrdiff_t q0 = 0; q0 < kq; q0 += 16) {
                __m512i block[16];
                for (int c = 0; c < 16; ++c)
                    block[c] = c < cols ? round_run(src + (j0 + j + c) * ld + p0 + 2 * q0,
                                                    kb - 2 * q0)
                                        : _mm512_setzero_si512();
                transpose16(block);
                const ptrdiff_t pairs = std::min<ptrdiff_t>(16, kq - q0);
                for (ptrdiff_t q = 0; q < pairs; ++q)
                    _mm512_mask_storeu_epi32(out + (q0 + q) * width, lanes, block[q]);
            }
        }
    }
}

}  // namespace

void pack_a(bool trans, const float* a, ptrdiff_t lda, ptrdiff_t i0, ptrdiff_t p0, ptrdiff_t mb,
            ptrdiff_t kb, int mr, uint32_t* dst) {
    if (trans)  // op(A)[i][p] = A[p][i]: two rows of A interleaved
        pack_row_pairs(a, lda, p0, i0, kb, mb, mr, dst);
    else  // op(A)[i][p] = A[i][p]: rows of A transposed
        pack_transposed(a, lda, p0, i0, kb, mb, mr, dst);
}

void pack_b(bool trans, const float* b, ptrdiff_t ldb, ptrdiff_t p0, ptrdiff_t j0, ptrdiff_t kb,
            ptrdiff_t nb, int nr, uint32_t* dst) {
    if (trans)  // op(B)[p][j] = B[j][p]
        pack_transposed(b, ldb, p0, j0, kb, nb, nr, dst);
    else
        pack_row_pairs(b, ldb, p0, j0, kb, nb, nr, dst);
}

}  // namespace pydl::gemm::avx512_bf16
