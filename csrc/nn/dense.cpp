#include "nn/dense.h"

#include <algorithm>

#include "cpu/threads.h"
#include "gemm/gemm.h"

namespace pydl::nn {

using std::ptrdiff_t;

template <class T>
void dense_forward(const T* x, const T* w, const T* b, ptrdiff_t batch, ptrdiff_t in,
                   ptrdiff_t out, Activation act, T alpha, T* y, T* z, gemm::Operands operands) {
    gemm::Epilogue<T> ep;
    ep.bias = b;
    if (!z) {  // fused: y = act(x.w + b) in one pass
        ep.activation = act;
        ep.alpha = alpha;
        gemm::gemm(false, false, batch, out, in, x, in, w, out, y, out, ep, operands);
        return;
    }
    gemm::gemm(false, false, batch, out, in, x, in, w, out, z, out, ep, operands);
    const ptrdiff_t grain = std::max<ptrdiff_t>(1, 4096 / std::max<ptrdiff_t>(out, 1));
    parallel_for(batch, grain, [&](ptrdiff_t r0, ptrdiff_t r1) {
        activation_forward_rows(act, alpha, z + r0 * out, out, y + r0 * out, out, r1 - r0, out);
    });
}

template <class T>
void column_sums(const T* dz, ptrdiff_t rows, ptrdiff_t cols, T* db) {
    // Columns are independent, so any split over them keeps each sum's order.
    constexpr ptrdiff_t kBlock = 64;
    const ptrdiff_t blocks = fixed_block_count(cols, kBlock);
    parallel_for(blocks, std::max<ptrdiff_t>(1, (1 << 16) / std::max<ptrdiff_t>(rows * kBlock, 1)),
                 [&](ptrdiff_t b0, ptrdiff_t b1) {
        for (ptrdiff_t blk = b0; blk < b1; ++blk) {
            const ptrdiff_t j0 = blk * kBlock, j1 = std::min(cols, j0 + kBlock);
            T acc[kBlock] = {};
            for (ptrdiff_t r = 0; r < rows; ++r) {
                const T* row = dz + r * cols;
                for (ptrdiff_t j = j0; j < j1; ++j) acc[j - j0] += row[j];
            }
            for (ptrdiff_t j = j0; j < j1; ++j) db[j] = acc[j - j0];
        }
    });
}

template <class T>
void dense_backward(const T* x, const T* w, const T* z, const T* y, const T* dy, ptrdiff_t batch,
                    ptrdiff_t in, ptrdiff_t out, Activation act, T alpha, T* dz, T* dx, T* dw,
                    T* db, gemm::Operands operands) {
    const T* g = dy;  // the gradient at the pre-activation
    if (act != Activation::linear) {
        const ptrdiff_t grain = std::max<ptrdiff_t>(1, 4096 / std::max<ptrdiff_t>(out, 1));
        parallel_for(batch, grain, [&](ptrdiff_t r0, ptrdiff_t r1) {
            const ptrdiff_t o = r0 * out;
            activation_backward_rows(act, alpha, z ? z + o : nullptr, y ? y + o : nullptr, dy + o,
                                     dz + o, r1 - r0, out);
        });
        g = dz;
    }
    if (dw) gemm::gemm(true, false, in, out, batch, x, in, g, out, dw, out, {}, operands);
    if (db) column_sums(g, batch, out, db);
    if (dx) gemm::gemm(false, true, batch, in, out, g, out, w, out, dx, in, {}, operands);
}

#define PYDL_DENSE_INSTANTIATE(T)                                                              \
    template void dense_forward<T>(const T*, const T*, const T*, ptrdiff_t, ptrdiff_t,         \
                                   ptrdiff_t, Activation, T, T*, T*, gemm::Operands);          \
    template void dense_backward<T>(const T*, const T*, const T*, const T*, const T*,          \
                                    ptrdiff_t, ptrdiff_t, ptrdiff_t, Activation, T, T*, T*, T*, \
                                    T*, gemm::Operands);                                       \
    template void column_sums<T>(const T*, ptrdiff_t, ptrdiff_t, T*);
PYDL_DENSE_INSTANTIATE(float)
PYDL_DENSE_INSTANTIATE(double)
#undef PYDL_DENSE_INSTANTIATE

}  // namespace pydl::nn
