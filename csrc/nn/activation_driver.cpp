// The threaded activation drivers declared in nn/activation.h.
#include <cstddef>

#include "cpu/threads.h"
#include "nn/activation.h"

namespace pydl::nn {

namespace {

// Items per thread below which splitting costs more than it saves.
constexpr std::ptrdiff_t kElementGrain = 16384;

std::ptrdiff_t row_grain(std::ptrdiff_t cols) {
    return cols >= kElementGrain ? 1 : kElementGrain / (cols > 0 ? cols : 1);
}

}  // namespace

template <class T>
void activation_forward(Activation act, T alpha, const T* x, T* y, std::ptrdiff_t rows,
                        std::ptrdiff_t cols) {
    if (is_elementwise(act)) {
        parallel_for(rows * cols, kElementGrain, [&](std::ptrdiff_t b, std::ptrdiff_t e) {
            activation_forward_rows<T>(act, alpha, x + b, 0, y + b, 0, 1, e - b);
        });
    } else {
        parallel_for(rows, row_grain(cols), [&](std::ptrdiff_t b, std::ptrdiff_t e) {
            activation_forward_rows<T>(act, alpha, x + b * cols, cols, y + b * cols, cols, e - b,
                                       cols);
        });
    }
}

template <class T>
void activation_backward(Activation act, T alpha, const T* z, const T* y, const T* dy, T* dx,
                         std::ptrdiff_t rows, std::ptrdiff_t cols) {
    if (is_elementwise(act)) {
        parallel_for(rows * cols, kElementGrain, [&](std::ptrdiff_t b, std::ptrdiff_t e) {
            activation_backward_rows<T>(act, alpha, z ? z + b : nullptr, y ? y + b : nullptr,
                                        dy + b, dx + b, 1, e - b);
        });
    } else {
        parallel_for(rows, row_grain(cols), [&](std::ptrdiff_t b, std::ptrdiff_t e) {
            const std::ptrdiff_t o = b * cols;
            activation_backward_rows<T>(act, alpha, nullptr, y + o, dy + o, dx + o, e - b, cols);
        });
    }
}

template void activation_forward<float>(Activation, float, const float*, float*, std::ptrdiff_t,
                                        std::ptrdiff_t);
template void activation_forward<double>(Activation, double, const double*, double*,
                                         std::ptrdiff_t, std::ptrdiff_t);
template void activation_backward<float>(Activation, float, const float*, const float*,
                                         const float*, float*, std::ptrdiff_t, std::ptrdiff_t);
template void activation_backward<double>(Activation, double, const double*, const double*,
                                          const double*, double*, std::ptrdiff_t, std::ptrdiff_t);

}  // namespace pydl::nn
