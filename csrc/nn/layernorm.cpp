// Layer normalization drivers: rows in parallel for the forward pass and dx,
// column blocks in parallel for dgamma / dbeta, on the installed per-ISA table
// (nn/norm_kernels.h).
#include "nn/layernorm.h"

#include <algorithm>
#include <limits>

#include "cpu/threads.h"
#include "nn/norm_kernels.h"

namespace pydl::nn {

namespace {

using norm_detail::kMaxColumnBlock;
using norm_detail::LayerNormUnit;

// Values per parallel chunk below which a parallel region costs more than it saves.
constexpr std::ptrdiff_t kParallelValues = 32768;

template <class T>
LayerNormUnit<T> unit(const T* x, const T* gamma, std::ptrdiff_t rows, std::ptrdiff_t cols,
                      bool rms_scaling) {
    LayerNormUnit<T> u{};
    u.x = x;
    u.gamma = gamma;
    u.rows = rows;
    u.cols = cols;
    u.rms_scaling = rms_scaling;
    return u;
}

std::ptrdiff_t row_grain(std::ptrdiff_t cols) {
    return std::max<std::ptrdiff_t>(1, kParallelValues / std::max<std::ptrdiff_t>(cols, 1));
}

}  // namespace

template <class T>
void layernorm_forward(const T* x, const T* gamma, const T* beta, std::ptrdiff_t rows,
                       std::ptrdiff_t cols, double epsilon, bool rms_scaling, T* y, T* mean,
                       T* rstd) {
    if (cols <= 0) {  // the mean of nothing, as NumPy: NaN statistics, no values to normalize
        const T nan = std::numeric_limits<T>::quiet_NaN();
        for (std::ptrdiff_t r = 0; r < rows; ++r) mean[r] = rstd[r] = nan;
        return;
    }
    LayerNormUnit<T> u = unit(x, gamma, rows, cols, rms_scaling);
    u.beta = beta;
    u.epsilon = epsilon;
    u.y = y;
    u.mean = mean;
    u.rstd = rstd;
    const auto& table = norm_detail::norm_table(static_cast<T*>(nullptr));
    parallel_for(rows, row_grain(cols), [&](std::ptrdiff_t r0, std::ptrdiff_t r1) {
        table.layernorm_forward_rows(u, r0, r1);
    });
}

template <class T>
void layernorm_backward(const T* x, const T* gamma, const T* mean, const T* rstd, const T* dy,
                        std::ptrdiff_t rows, std::ptrdiff_t cols, bool rms_scaling, T* dx,
                        T* dgamma, T* dbeta) {
    if (cols <= 0) return;
    LayerNormUnit<T> u = unit(x, gamma, rows, cols, rms_scaling);
    u.mean = const_cast<T*>(mean);  // read only
    u.rstd = const_cast<T*>(rstd);  // read only
    u.dy = dy;
    u.dx = dx;
    u.dgamma = dgamma;
    u.dbeta = dbeta;
    const auto& table = norm_detail::norm_table(static_cast<T*>(nullptr));
    if (dx) {
        parallel_for(rows, row_grain(cols), [&](std::ptrdiff_t r0, std::ptrdiff_t r1) {
            table.layernorm_backward_rows(u, r0, r1);
        });
    }
    if (!dgamma && !dbeta) return;
    const std::ptrdiff_t blocks = fixed_block_count(cols, kMaxColumnBlock);
    const std::ptrdiff_t grain = std::max<std::ptrdiff_t>(
        1, kParallelValues / (std::max<std::ptrdiff_t>(rows, 1) * kMaxColumnBlock));
    parallel_for(blocks, grain, [&](std::ptrdiff_t b0, std::ptrdiff_t b1) {
        for (std::ptrdiff_t b = b0; b < b1; ++b) {
            table.layernorm_param_grads_cols(u, b * kMaxColumnBlock,
                                             std::min(cols, (b + 1) * kMaxColumnBlock));
        }
    });
}

#define PYDL_LAYERNORM_INSTANTIATE(T)                                                          \
    template void layernorm_forward<T>(const T*, const T*, const T*, std::ptrdiff_t,            \
                                       std::ptrdiff_t, double, bool, T*, T*, T*);               \
    template void layernorm_backward<T>(const T*, const T*, const T*, const T*, const T*,       \
                                        std::ptrdiff_t, std::ptrdiff_t, bool, T*, T*, T*);
PYDL_LAYERNORM_INSTANTIATE(float)
PYDL_LAYERNORM_INSTANTIATE(double)
#undef PYDL_LAYERNORM_INSTANTIATE

}  // namespace pydl::nn
