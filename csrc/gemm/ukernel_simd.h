// The SIMD microkernel of gemm/ukernel.h, written once over a vector type V and
// expanded per ISA and tile size in the `*__avx2.cpp` / `*__avx512.cpp` files.
//
// V (defined in the ISA file, inside that file's own namespace) provides:
//   using T = float|double; using reg = the register type; static constexpr int width;
//   load (aligned), loadu, storeu, broadcast(const T*), zero(), fmadd(a, b, c) = a*b + c.
// Because every instantiation depends on V, each ISA file gets its own copies;
// nothing here is shared between paths (see cpu/isa.h on why that matters).
//
// The tile is MR rows x NV vectors (NR = NV * V::width). Accumulators live in
// registers: MR * NV of them, plus NV for the B row and one broadcast.
#pragma once

#include <cstddef>

namespace pydl::gemm {

// kPackedA: A is a packed panel (rs_a == 1, cs_a == MR, known at compile time),
// else A is read in place with the given strides.
template <class V, int MR, int NV, bool kPackedA>
inline __attribute__((always_inline)) void gemm_ukernel_simd(
    std::ptrdiff_t k, const typename V::T* __restrict a, std::ptrdiff_t rs_a, std::ptrdiff_t cs_a,
    const typename V::T* __restrict b, std::ptrdiff_t ldb, typename V::T* __restrict c,
    std::ptrdiff_t ldc, const typename V::T* __restrict bias, bool load_c) {
    if (kPackedA) {
        rs_a = 1;
        cs_a = MR;
    }
    using R = typename V::reg;
    constexpr int W = V::width;
    R acc[MR][NV];
    if (load_c) {
#pragma GCC unroll 16
        for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v) acc[i][v] = V::loadu(c + i * ldc + v * W);
    } else {
        R init[NV];
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) init[v] = bias ? V::loadu(bias + v * W) : V::zero();
#pragma GCC unroll 16
        for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v) acc[i][v] = init[v];
    }
#pragma GCC unroll 2
    for (std::ptrdiff_t p = 0; p < k; ++p) {
        R bv[NV];
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) bv[v] = V::loadu(b + v * W);
#pragma GCC unroll 16
        for (int i = 0; i < MR; ++i) {
            const R ai = V::broadcast(a + i * rs_a);
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v) acc[i][v] = V::fmadd(ai, bv[v], acc[i][v]);
        }
        a += cs_a;
        b += ldb;
    }
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) V::storeu(c + i * ldc + v * W, acc[i][v]);
}

}  // namespace pydl::gemm
