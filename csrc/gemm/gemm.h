// C = act(op(A) . op(B) + bias), or C += op(A) . op(B): the core's matrix product.
//
// Row-major matrices with row strides (lda, ldb, ldc), unit column strides.
// op(A) is M x K (A is M x K, or K x M when trans_a); op(B) is K x N (B is
// K x N, or N x K when trans_b); C is M x N and must not overlap A, B or bias.
// Threads split M and N only, never K, so results are bitwise identical at any
// thread count and whichever thread computes which tile (cpu/threads.h, gemm/tiles.h). Callable from inside a parallel region (it then
// runs on the calling thread).
#pragma once

#include <cstddef>

#include "gemm/bf16.h"
#include "gemm/tiles.h"
#include "nn/activation.h"

namespace pydl::gemm {

template <class T>
struct Epilogue {
    const T* bias = nullptr;                          // N values added to each row, or nullptr
    nn::Activation activation = nn::Activation::linear;  // applied after the bias (softmax: per row)
    T alpha = T(0);                                   // leaky_relu / elu parameter
    bool accumulate = false;  // C += op(A).op(B); then bias must be nullptr and activation linear
};

// `operands`: Operands::bf16 rounds A and B to bfloat16 in the packing and sums
// in float32 (gemm/bf16.h; float only, and only where the bf16 kernels are
// installed: elsewhere the product runs on the float kernels).
template <class T>
void gemm(bool trans_a, bool trans_b, std::ptrdiff_t m, std::ptrdiff_t n, std::ptrdiff_t k,
          const T* a, std::ptrdiff_t lda, const T* b, std::ptrdiff_t ldb, T* c, std::ptrdiff_t ldc,
          const Epilogue<T>& epilogue = {}, Operands operands = Operands::as_is);

// The macro-tile grid the blocked path would use for this product at `threads`
// threads (1 x 1 when it runs serially or takes the skinny path): diagnostics
// and tests.
template <class T>
TileGrid gemm_tile_grid(bool trans_b, std::ptrdiff_t m, std::ptrdiff_t n, std::ptrdiff_t k,
                        int threads, Operands operands = Operands::as_is);

// Name of the microkernel the active SIMD path uses for T (for show_config / benchmarks).
template <class T>
const char* gemm_kernel_name(Operands operands = Operands::as_is);

}  // namespace pydl::gemm
