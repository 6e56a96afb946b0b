// The GEMM microkernel contract and the table of installed microkernels.
//
// A microkernel computes one MR x NR tile of C from packed operands:
//
//     for i < MR, j < NR:
//         acc = load_c ? c[i*ldc + j] : (bias ? bias[j] : 0)
//         for p = 0, 1, ..., k-1 (in this order, one multiply-add each):
//             acc += a[p*MR + i] * b[p*ldb + j]
//         c[i*ldc + j] = acc
//
//   a    packed A micro-panel, MR x k stored column by column (a[p*MR + i]),
//        64-byte aligned (gemm/pack.h); rows past the matrix edge are zero.
//   b    k x NR micro-panel with row stride ldb: either packed (ldb == NR,
//        64-byte aligned) or read in place from a row-major B (ldb >= NR);
//        columns are always unit-stride and all NR of them readable.
//   c    the output tile, row stride ldc, unit column stride; all MR x NR
//        values readable and writable.
//   bias NR values (or nullptr); ignored when load_c.
//
// Microkernels see full tiles only. The driver (gemm/gemm.cpp) handles edge
// tiles through a stack tile: it copies the valid part of C (or the bias) in,
// calls the kernel with load_c, and copies the valid part back.
//
// Starting the accumulator from C makes the result independent of how the
// driver splits k into blocks: every output element is the same chain of
// multiply-adds in p order whatever the blocking or the thread count
// (cpu/threads.h determinism rule). Kernels use fused multiply-add where the
// ISA has it; the reference kernel (gemm/ukernel_ref.h) is the oracle.
#pragma once

#include <cstddef>

#include "cpu/isa.h"

namespace pydl::gemm {

template <class T>
using UkernelFn = void (*)(std::ptrdiff_t k, const T* a, const T* b, std::ptrdiff_t ldb, T* c,
                           std::ptrdiff_t ldc, const T* bias, bool load_c);

// Largest tile any kernel uses (bounds the driver's stack tile).
constexpr int kMaxMr = 16;
constexpr int kMaxNr = 64;

// One installed microkernel with the cache blocking tuned for it.
template <class T>
struct Ukernel {
    UkernelFn<T> fn = nullptr;
    int mr = 0, nr = 0;
    std::ptrdiff_t mc = 0, kc = 0, nc = 0;  // multiples of mr / nr
    const char* name = "";
};

struct UkernelTable {
    Ukernel<float> f32;
    Ukernel<double> f64;
};

// The kernels of the active SIMD path (cpu/isa.h).
const UkernelTable& ukernels();

}  // namespace pydl::gemm

// The tables of the per-ISA files (gemm/ukernel__avx2.cpp, gemm/ukernel__avx512.cpp).
namespace pydl::gemm::avx2 {
UkernelTable ukernel_table();
}
namespace pydl::gemm::avx512 {
UkernelTable ukernel_table();
}
