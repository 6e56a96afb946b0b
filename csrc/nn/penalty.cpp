#include "nn/penalty.h"

#include <cmath>

#include "cpu/threads.h"
#include "nn/reduce.h"

namespace pydl::nn {

namespace {
constexpr std::ptrdiff_t kBlock = 4096;
}

template <class T>
T penalty_value(const WeightPenalty& p, const T* w, std::ptrdiff_t n) {
    double value = 0.0;
    if (p.l1 != 0.0) {
        const double s = blocked_sum(n, kBlock, 4, [&](std::ptrdiff_t b, std::ptrdiff_t e) {
            double acc = 0.0;
            for (std::ptrdiff_t i = b; i < e; ++i) acc += std::fabs(static_cast<double>(w[i]));
            return acc;
        });
        value += p.l1 * s;
    }
    if (p.l2 != 0.0) value += p.l2 * sum_of_squares(w, n);
    return static_cast<T>(value);
}

template <class T>
void penalty_gradient(const WeightPenalty& p, const T* w, T* g, std::ptrdiff_t n) {
    const T l1 = static_cast<T>(p.l1);
    const T two_l2 = static_cast<T>(2.0 * p.l2);
    const bool use_l1 = p.l1 != 0.0, use_l2 = p.l2 != 0.0;
    parallel_for(n, 16384, [&](std::ptrdiff_t b, std::ptrdiff_t e) {
        for (std::ptrdiff_t i = b; i < e; ++i) {
            const T wi = w[i];
            // sign as NumPy's: -1, 0, 1, and NaN for NaN (a blend, not a branch).
            T sign = static_cast<T>(wi > T(0)) - static_cast<T>(wi < T(0));
            sign = wi == wi ? sign : wi;
            T gi = T(0);
            if (use_l1) gi = l1 * sign;
            if (use_l2) gi = gi + two_l2 * wi;
            g[i] = gi;
        }
    });
}

template float penalty_value<float>(const WeightPenalty&, const float*, std::ptrdiff_t);
template double penalty_value<double>(const WeightPenalty&, const double*, std::ptrdiff_t);
template void penalty_gradient<float>(const WeightPenalty&, const float*, float*, std::ptrdiff_t);
template void penalty_gradient<double>(const WeightPenalty&, const double*, double*,
                                       std::ptrdiff_t);

}  // namespace pydl::nn
