// The SIMD microkernel of gemm/ukernel.h, written once over a vector type V and
// expanded per ISA and tile size in the `*__avx2.cpp` / `*__avx512.cpp` files.
//
// V (defined in the ISA file, inside that file's own namespace) provides:
//   using T = float|double; using reg = the register type; static constexpr int width;
//   loadu, storeu, broadcast(const T*), zero(), fmadd(a, b, c) = a*b + c, and the
//   masked forms for edge tiles: loadu_first(p, n) (lanes >= n read as zero and
//   not touched in memory) and storeu_first(p, v, n) (only lanes < n written);
//   n <= 0 means no lane, n >= width every lane.
// A V whose packed operands are not T (bfloat16 pairs, gemm/bf16.h) also provides
//   using P = the packed element; using preg = its register type;
//   load_packed(const P*), broadcast_packed(const P*) and madd(a, b, acc) = acc
//   plus the products of a and b (for a pair: acc + a1*b1 + a0*b0).
// Because every instantiation depends on V, each ISA file gets its own copies;
// nothing here is shared between paths (see cpu/isa.h on why that matters).
//
// The tile is MR rows x NV vectors (NR = NV * V::width). Accumulators live in
// registers: MR * NV of them, plus NV for the B row and one broadcast.
#pragma once

#include <cstddef>
#include <type_traits>

#include "gemm/ukernel.h"

namespace pydl::gemm {

// The operand side of V: its own registers (P = T, madd = fmadd), or what V
// declares for packed operands of another type.
template <class V, class = void>
struct OperandsOf {
    using P = typename V::T;
    using preg = typename V::reg;
    static preg load(const P* p) { return V::loadu(p); }
    static preg broadcast(const P* p) { return V::broadcast(p); }
    static typename V::reg madd(preg a, preg b, typename V::reg acc) { return V::fmadd(a, b, acc); }
};

template <class V>
struct OperandsOf<V, std::void_t<typename V::P>> {
    using P = typename V::P;
    using preg = typename V::preg;
    static preg load(const P* p) { return V::load_packed(p); }
    static preg broadcast(const P* p) { return V::broadcast_packed(p); }
    static typename V::reg madd(preg a, preg b, typename V::reg acc) { return V::madd(a, b, acc); }
};

// kPackedA: A is a packed panel (rs_a == 1, cs_a == MR, known at compile time),
// else A is read in place with the given strides.
template <class V, int MR, int NV, bool kPackedA, class Op = OperandsOf<V>>
inline __attribute__((always_inline)) void gemm_ukernel_simd(
    std::ptrdiff_t k, const typename Op::P* __restrict a, std::ptrdiff_t rs_a, std::ptrdiff_t cs_a,
    const typename Op::P* __restrict b, std::ptrdiff_t ldb, typename V::T* __restrict c,
    std::ptrdiff_t ldc, const typename V::T* __restrict bias, bool load_c, int rows, int cols) {
    if (kPackedA) {
        rs_a = 1;
        cs_a = MR;
    }
    using R = typename V::reg;
    constexpr int W = V::width;
    // An edge tile differs only in its loads and stores of C and the bias, outside
    // the k loop; the branch on it is taken the same way for a whole row of tiles.
    const bool edge = rows < MR || cols < NV * W;
    R acc[MR][NV];
    if (load_c) {
        if (!edge) {
#pragma GCC unroll 16
            for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
                for (int v = 0; v < NV; ++v) acc[i][v] = V::loadu(c + i * ldc + v * W);
        } else {
#pragma GCC unroll 16
            for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
                for (int v = 0; v < NV; ++v)
                    acc[i][v] = i < rows ? V::loadu_first(c + i * ldc + v * W, cols - v * W)
                                         : V::zero();
        }
    } else {
        R init[NV];
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v)
            init[v] = !bias ? V::zero()
                            : edge ? V::loadu_first(bias + v * W, cols - v * W)
                                   : V::loadu(bias + v * W);
#pragma GCC unroll 16
        for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v) acc[i][v] = init[v];
    }
#pragma GCC unroll 2
    for (std::ptrdiff_t p = 0; p < k; ++p) {
        typename Op::preg bv[NV];
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) bv[v] = Op::load(b + v * W);
#pragma GCC unroll 16
        for (int i = 0; i < MR; ++i) {
            const typename Op::preg ai = Op::broadcast(a + i * rs_a);
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v) acc[i][v] = Op::madd(ai, bv[v], acc[i][v]);
        }
        a += cs_a;
        b += ldb;
    }
    if (!edge) {
#pragma GCC unroll 16
        for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v) V::storeu(c + i * ldc + v * W, acc[i][v]);
    } else {
#pragma GCC unroll 16
        for (int i = 0; i < MR; ++i) {
            if (i >= rows) break;
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v) V::storeu_first(c + i * ldc + v * W, acc[i][v], cols - v * W);
        }
    }
}

// The out-of-line entry points a Ukernel table points at: one per tile size and
// A layout, instantiated in the ISA file that names V (so with its flags).
template <class V, int MR, int NV, bool kPackedA>
void gemm_ukernel_entry(std::ptrdiff_t k, const typename OperandsOf<V>::P* a, std::ptrdiff_t rs_a,
                        std::ptrdiff_t cs_a, const typename OperandsOf<V>::P* b, std::ptrdiff_t ldb,
                        typename V::T* c, std::ptrdiff_t ldc, const typename V::T* bias,
                        bool load_c, int rows, int cols) {
    gemm_ukernel_simd<V, MR, NV, kPackedA>(k, a, rs_a, cs_a, b, ldb, c, ldc, bias, load_c, rows,
                                           cols);
}

// A table entry: the packed-A and strided-A kernels of one MR x (NV * width) tile
// with its cache blocking.
template <class V, int MR, int NV>
Ukernel<typename V::T, typename OperandsOf<V>::P> make_ukernel(std::ptrdiff_t mc,
                                                                std::ptrdiff_t kc,
                                                                std::ptrdiff_t nc,
                                                                const char* name) {
    return {gemm_ukernel_entry<V, MR, NV, true>, gemm_ukernel_entry<V, MR, NV, false>,
            MR, NV * V::width, mc, kc, nc, name};
}

}  // namespace pydl::gemm
