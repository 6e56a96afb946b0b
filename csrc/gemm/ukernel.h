// The GEMM microkernel contract and the table of installed microkernels.
//
// A microkernel computes one MR x NR tile of C, of which the first `rows` x
// `cols` values are stored (1 <= rows <= MR, 1 <= cols <= NR):
//
//     for i < rows, j < cols:
//         acc = load_c ? c[i*ldc + j] : (bias ? bias[j] : 0)
//         for p = 0, 1, ..., k-1 (in this order, one multiply-add each):
//             acc += a[i*rs_a + p*cs_a] * b[p*ldb + j]
//         c[i*ldc + j] = acc
//
//   a    the MR x k micro-panel of A. Two entries per tile size: `packed` reads
//        a packed panel (gemm/pack.h: rs_a == 1, cs_a == MR, 64-byte aligned;
//        rows past the matrix edge are zero) and may ignore rs_a / cs_a;
//        `strided` reads A in place with any strides (small products, where
//        packing would cost more than it saves). All MR rows must be readable.
//   b    k x NR micro-panel with row stride ldb: either packed (ldb == NR,
//        64-byte aligned) or read in place from a row-major B (ldb >= NR);
//        columns are always unit-stride and all NR of them readable.
//   c    the output tile, row stride ldc, unit column stride; only the
//        rows x cols corner is read (load_c) or written.
//   bias `cols` values (or nullptr); ignored when load_c.
//
// Edge tiles (rows < MR or cols < NR) run the same multiply-adds on the full
// register tile and mask the loads and stores of C and of the bias, so they cost
// no copy; A and B panels that would run past the matrix edge are packed
// (zero-padded) by the driver (gemm/gemm.cpp), which keeps them readable.
//
// Starting the accumulator from C makes the result independent of how the
// driver splits k into blocks: every output element is the same chain of
// multiply-adds in p order whatever the blocking, the packing, the tile edge or
// the thread count (cpu/threads.h determinism rule). Kernels use fused
// multiply-add where the ISA has it; the reference kernel (gemm/ukernel_ref.h)
// is the oracle.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cpu/isa.h"

namespace pydl::gemm {

// T is the type of C and the bias; P the type of the packed operands A and B
// (T itself, or a pair of bfloat16 values for the bfloat16 kernels: see
// gemm/bf16.h, where k counts pairs and one multiply-add is a pair's dot product).
template <class T, class P = T>
using UkernelFn = void (*)(std::ptrdiff_t k, const P* a, std::ptrdiff_t rs_a, std::ptrdiff_t cs_a,
                           const P* b, std::ptrdiff_t ldb, T* c, std::ptrdiff_t ldc, const T* bias,
                           bool load_c, int rows, int cols);

// One installed microkernel with the cache blocking tuned for it.
template <class T, class P = T>
struct Ukernel {
    UkernelFn<T, P> packed = nullptr;   // A packed (rs_a == 1, cs_a == mr)
    UkernelFn<T, P> strided = nullptr;  // A read in place
    int mr = 0, nr = 0;
    std::ptrdiff_t mc = 0, kc = 0, nc = 0;  // multiples of mr / nr; kc counts values of T
    const char* name = "";
};

// Per type: the main kernel and a narrow one (same MR, fewer columns) for the
// last column panel when it is at most narrow.nr wide, so that a product with a
// few output columns (a classifier's 10) does not compute a full NR-wide tile.
// narrow.nr == main.nr when an ISA has no narrower kernel.
template <class T, class P = T>
struct UkernelSet {
    Ukernel<T, P> main, narrow;
};

// Per type, two sets: `tall` (the ISA's largest MR, the fastest on big
// products) and `short_rows` (MR == 8 or a divisor of it where the ISA's tall
// MR is not a power of two). The driver takes short_rows for products whose A is
// read in place (no packing: small ones) when M is a multiple of its MR but not
// of tall's -- batch sizes and layer widths are usually powers of two -- so that
// no row panel needs a packed, partly wasted tail. Every element is the same
// chain of multiply-adds whichever set runs it.
template <class T>
struct UkernelSets {
    UkernelSet<T> tall, short_rows;
};

// Packs a block of op(A) or op(B) rounded to bfloat16 (gemm/pack_bf16.h).
using PackBf16AFn = void (*)(bool trans, const float* a, std::ptrdiff_t lda, std::ptrdiff_t i0,
                             std::ptrdiff_t p0, std::ptrdiff_t mb, std::ptrdiff_t kb, int mr,
                             std::uint32_t* dst);
using PackBf16BFn = void (*)(bool trans, const float* b, std::ptrdiff_t ldb, std::ptrdiff_t p0,
                             std::ptrdiff_t j0, std::ptrdiff_t kb, std::ptrdiff_t nb, int nr,
                             std::uint32_t* dst);

// float32 products with bfloat16 operands (gemm/bf16.h): installed only on the
// avx512_bf16 path; elsewhere empty, and such products run the float kernels.
struct Bf16Kernels {
    UkernelSet<float, std::uint32_t> set;
    PackBf16AFn pack_a = nullptr;
    PackBf16BFn pack_b = nullptr;

    bool available() const { return pack_a != nullptr; }
};

struct UkernelTable {
    UkernelSets<float> f32;
    UkernelSets<double> f64;
    Bf16Kernels bf16;
};

// The kernels of the active SIMD path (cpu/isa.h).
const UkernelTable& ukernels();

}  // namespace pydl::gemm

// The tables of the per-ISA files (gemm/ukernel__avx2.cpp, gemm/ukernel__avx512.cpp,
// gemm/ukernel_bf16__avx512_bf16.cpp).
namespace pydl::gemm::avx2 {
UkernelTable ukernel_table();
}
namespace pydl::gemm::avx512 {
UkernelTable ukernel_table();
}
namespace pydl::gemm::avx512_bf16 {
Bf16Kernels bf16_kernels();
}
