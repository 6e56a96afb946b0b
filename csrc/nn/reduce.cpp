#include "nn/reduce.h"

namespace pydl::nn {

namespace {

// Items per block of sum_of_squares: large enough to amortize the block
// bookkeeping, small enough that a few blocks exist for each thread.
constexpr std::ptrdiff_t kSquaresBlock = 16384;
// Lanes of independent double accumulators within a block. Fixed, so the
// order of additions is part of the definition; it lets the compiler vectorize
// without reassociating anything.
constexpr int kLanes = 8;

template <class T>
double block_sum_of_squares(const T* x, std::ptrdiff_t begin, std::ptrdiff_t end) {
    double lane[kLanes] = {};
    std::ptrdiff_t i = begin;
    for (; i + kLanes <= end; i += kLanes) {
        for (int k = 0; k < kLanes; ++k) {
            const double v = static_cast<double>(x[i + k]);
            lane[k] += v * v;
        }
    }
    for (int k = 0; i < end; ++i, ++k) {
        const double v = static_cast<double>(x[i]);
        lane[k] += v * v;
    }
    // Pairwise, in a fixed order.
    return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
}

}  // namespace

template <class T>
double sum_of_squares(const T* x, std::ptrdiff_t n) {
    return blocked_sum(n, kSquaresBlock, 4, [x](std::ptrdiff_t begin, std::ptrdiff_t end) {
        return block_sum_of_squares(x, begin, end);
    });
}

template double sum_of_squares<float>(const float*, std::ptrdiff_t);
template double sum_of_squares<double>(const double*, std::ptrdiff_t);

}  // namespace pydl::nn
