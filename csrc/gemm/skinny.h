// Products with only a few rows of A (predict on one sample, a tiny last batch).
//
// The blocked driver computes whole MR x NR tiles, so with m < MR every tile is
// an edge tile that does MR/m times the needed work through a stack copy. This
// path instead keeps m (<= kSkinnyMaxRows) rows x W columns of C in registers and
// streams B in place, row by row: it is bound by reading B once, as a GEMV is.
// Each output element is summed in K order from its initial value, on one
// thread, so results do not depend on the thread count.
#pragma once

#include <cstddef>

namespace pydl::gemm {

constexpr std::ptrdiff_t kSkinnyMaxRows = 4;

// C[0:m, j0:j1] (=|+=) op(A)[0:m, :] . B[:, j0:j1] (+ bias[j0:j1]); B not transposed.
// op(A)[i][p] = a[i * rs_a + p * cs_a].
template <class T>
struct SkinnyArgs {
    std::ptrdiff_t m, k;
    const T* a;
    std::ptrdiff_t rs_a, cs_a;
    const T* b;
    std::ptrdiff_t ldb;
    T* c;
    std::ptrdiff_t ldc;
    const T* bias;    // nullptr: none
    bool accumulate;  // start from C instead of the bias
};

// Columns per register block of the installed kernel, and the kernel itself.
template <class T>
using SkinnyFn = void (*)(const SkinnyArgs<T>& args, std::ptrdiff_t j0, std::ptrdiff_t j1);

template <class T>
struct SkinnyKernel {
    SkinnyFn<T> fn = nullptr;
    std::ptrdiff_t width = 0;
};

template <class T>
const SkinnyKernel<T>& skinny_kernel();

namespace avx2 {
void install_skinny(SkinnyKernel<float>& f32, SkinnyKernel<double>& f64);
}
namespace avx512 {
void install_skinny(SkinnyKernel<float>& f32, SkinnyKernel<double>& f64);
}

}  // namespace pydl::gemm
