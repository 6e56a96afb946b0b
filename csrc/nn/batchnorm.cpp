// Batch normalization drivers: split the channels into units (column blocks when
// inner == 1, runs of channels otherwise) and run them on the installed
// per-ISA table (nn/norm_kernels.h). Units are serial and own their channels.
#include "nn/batchnorm.h"

#include <algorithm>

#include "cpu/threads.h"
#include "nn/norm_kernels.h"

namespace pydl::nn {

namespace {

using norm_detail::BatchNormUnit;
using norm_detail::kMaxColumnBlock;

// Values per parallel chunk below which a parallel region costs more than it saves.
constexpr std::ptrdiff_t kParallelValues = 32768;

// Column block width for inner == 1: the widest block (up to kMaxColumnBlock, a multiple
// of 16) that still leaves two blocks per thread. The width never changes a result:
// each column is summed over the rows in order whatever its block.
std::ptrdiff_t column_block(std::ptrdiff_t channels) {
    const std::ptrdiff_t per_thread = channels / (2 * std::max(1, num_threads()));
    const std::ptrdiff_t width = std::min<std::ptrdiff_t>(kMaxColumnBlock, per_thread / 16 * 16);
    return std::max<std::ptrdiff_t>(16, width);
}

template <class T>
void run_forward(const BatchNormUnit<T>& u) {
    const auto& table = norm_detail::norm_table(static_cast<T*>(nullptr));
    const std::ptrdiff_t values_per_channel = std::max<std::ptrdiff_t>(1, u.outer * u.inner);
    if (u.inner == 1) {
        const std::ptrdiff_t block = column_block(u.channels);
        const std::ptrdiff_t blocks = fixed_block_count(u.channels, block);
        const std::ptrdiff_t grain =
            std::max<std::ptrdiff_t>(1, kParallelValues / (values_per_channel * block));
        parallel_for(blocks, grain, [&](std::ptrdiff_t b0, std::ptrdiff_t b1) {
            for (std::ptrdiff_t b = b0; b < b1; ++b) {
                table.batchnorm_forward_cols(u, b * block, std::min(u.channels, (b + 1) * block));
            }
        });
        return;
    }
    const std::ptrdiff_t grain = std::max<std::ptrdiff_t>(1, kParallelValues / values_per_channel);
    parallel_for(u.channels, grain, [&](std::ptrdiff_t c0, std::ptrdiff_t c1) {
        table.batchnorm_forward_channels(u, c0, c1);
    });
}

}  // namespace

template <class T>
void batchnorm_forward_training(const T* x, const T* gamma, const T* beta, std::ptrdiff_t outer,
                                std::ptrdiff_t channels, std::ptrdiff_t inner, double epsilon,
                                T* y, T* mean, T* variance, T* inv_std) {
    BatchNormUnit<T> u{};
    u.x = x;
    u.gamma = gamma;
    u.beta = beta;
    u.outer = outer;
    u.channels = channels;
    u.inner = inner;
    u.epsilon = epsilon;
    u.training = true;
    u.y = y;
    u.mean = mean;
    u.variance = variance;
    u.inv_std = inv_std;
    run_forward(u);
}

template <class T>
void batchnorm_forward_inference(const T* x, const T* gamma, const T* beta, const T* mean,
                                 const T* variance, std::ptrdiff_t outer, std::ptrdiff_t channels,
                                 std::ptrdiff_t inner, double epsilon, T* y, T* inv_std) {
    BatchNormUnit<T> u{};
    u.x = x;
    u.gamma = gamma;
    u.beta = beta;
    u.outer = outer;
    u.channels = channels;
    u.inner = inner;
    u.epsilon = epsilon;
    u.training = false;
    u.y = y;
    // Read only when training is false.
    u.mean = const_cast<T*>(mean);
    u.variance = const_cast<T*>(variance);
    u.inv_std = inv_std;
    run_forward(u);
}

template <class T>
void batchnorm_backward(const T* x, const T* gamma, const T* mean, const T* inv_std, const T* dy,
                        std::ptrdiff_t outer, std::ptrdiff_t channels, std::ptrdiff_t inner,
                        bool training, T* dx, T* dgamma, T* dbeta) {
    BatchNormUnit<T> u{};
    u.x = x;
    u.gamma = gamma;
    u.outer = outer;
    u.channels = channels;
    u.inner = inner;
    u.training = training;
    u.mean = const_cast<T*>(mean);        // read only
    u.inv_std = const_cast<T*>(inv_std);  // read only
    u.dy = dy;
    u.dx = dx;
    u.dgamma = dgamma;
    u.dbeta = dbeta;
    const auto& table = norm_detail::norm_table(static_cast<T*>(nullptr));
    const std::ptrdiff_t values_per_channel = std::max<std::ptrdiff_t>(1, outer * inner);
    if (inner == 1) {
        const std::ptrdiff_t block = column_block(channels);
        const std::ptrdiff_t blocks = fixed_block_count(channels, block);
        const std::ptrdiff_t grain =
            std::max<std::ptrdiff_t>(1, kParallelValues / (values_per_channel * block));
        parallel_for(blocks, grain, [&](std::ptrdiff_t b0, std::ptrdiff_t b1) {
            for (std::ptrdiff_t b = b0; b < b1; ++b) {
                table.batchnorm_backward_cols(u, b * block, std::min(channels, (b + 1) * block));
            }
        });
        return;
    }
    const std::ptrdiff_t grain = std::max<std::ptrdiff_t>(1, kParallelValues / values_per_channel);
    parallel_for(channels, grain, [&](std::ptrdiff_t c0, std::ptrdiff_t c1) {
        table.batchnorm_backward_channels(u, c0, c1);
    });
}

template <class T>
void batchnorm_update_moving(T* moving, const T* batch, std::ptrdiff_t n, double momentum) {
    const T keep = static_cast<T>(momentum);
    const T take = static_cast<T>(1.0 - momentum);
    for (std::ptrdiff_t i = 0; i < n; ++i) moving[i] = moving[i] * keep + batch[i] * take;
}

#define PYDL_BATCHNORM_INSTANTIATE(T)                                                           \
    template void batchnorm_forward_training<T>(const T*, const T*, const T*, std::ptrdiff_t,    \
                                                std::ptrdiff_t, std::ptrdiff_t, double, T*, T*,  \
                                                T*, T*);                                         \
    template void batchnorm_forward_inference<T>(const T*, const T*, const T*, const T*,         \
                                                 const T*, std::ptrdiff_t, std::ptrdiff_t,        \
                                                 std::ptrdiff_t, double, T*, T*);                 \
    template void batchnorm_backward<T>(const T*, const T*, const T*, const T*, const T*,        \
                                        std::ptrdiff_t, std::ptrdiff_t, std::ptrdiff_t, bool, T*, \
                                        T*, T*);                                                  \
    template void batchnorm_update_moving<T>(T*, const T*, std::ptrdiff_t, double);
PYDL_BATCHNORM_INSTANTIATE(float)
PYDL_BATCHNORM_INSTANTIATE(double)
#undef PYDL_BATCHNORM_INSTANTIATE

}  // namespace pydl::nn
