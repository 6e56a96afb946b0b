#include "nn/pooling.h"

#include <algorithm>
#include <cstring>

#include "cpu/threads.h"

namespace pydl::nn {

namespace {

using std::ptrdiff_t;

// Values per parallel chunk below which a parallel region costs more than it saves.
constexpr ptrdiff_t kParallelValues = 32768;
// Accumulators of one block of the inner axis (on the stack).
constexpr ptrdiff_t kInnerBlock = 64;

ptrdiff_t outer_grain(ptrdiff_t steps, ptrdiff_t inner) {
    return std::max<ptrdiff_t>(1, kParallelValues / std::max<ptrdiff_t>(1, steps * inner));
}

// Number of kept steps of a mask row (all steps without a mask).
ptrdiff_t kept_steps(const std::uint8_t* mask_row, ptrdiff_t steps) {
    if (!mask_row) return steps;
    ptrdiff_t n = 0;
    for (ptrdiff_t t = 0; t < steps; ++t) n += mask_row[t] != 0;
    return n;
}

}  // namespace

template <class T>
void global_average_pool_forward(const T* x, const std::uint8_t* mask, ptrdiff_t outer,
                                 ptrdiff_t steps, ptrdiff_t inner, ptrdiff_t mask_group, T* y) {
    const ptrdiff_t group = std::max<ptrdiff_t>(1, mask_group);
    parallel_for(outer, outer_grain(steps, inner), [&](ptrdiff_t o0, ptrdiff_t o1) {
        for (ptrdiff_t o = o0; o < o1; ++o) {
            const std::uint8_t* m = mask ? mask + (o / group) * steps : nullptr;
            const double inv = 1.0 / static_cast<double>(kept_steps(m, steps));
            const T* xo = x + o * steps * inner;
            for (ptrdiff_t i0 = 0; i0 < inner; i0 += kInnerBlock) {
                const ptrdiff_t w = std::min(kInnerBlock, inner - i0);
                double acc[kInnerBlock] = {};
                for (ptrdiff_t t = 0; t < steps; ++t) {
                    if (m && !m[t]) continue;
                    const T* __restrict row = xo + t * inner + i0;
                    for (ptrdiff_t j = 0; j < w; ++j) acc[j] += static_cast<double>(row[j]);
                }
                T* __restrict out = y + o * inner + i0;
                for (ptrdiff_t j = 0; j < w; ++j) out[j] = static_cast<T>(acc[j] * inv);
            }
        }
    });
}

template <class T>
void global_average_pool_backward(const T* dy, const std::uint8_t* mask, ptrdiff_t outer,
                                  ptrdiff_t steps, ptrdiff_t inner, ptrdiff_t mask_group, T* dx) {
    const ptrdiff_t group = std::max<ptrdiff_t>(1, mask_group);
    parallel_for(outer, outer_grain(steps, inner), [&](ptrdiff_t o0, ptrdiff_t o1) {
        for (ptrdiff_t o = o0; o < o1; ++o) {
            const std::uint8_t* m = mask ? mask + (o / group) * steps : nullptr;
            const T count = static_cast<T>(kept_steps(m, steps));
            const T* __restrict g = dy + o * inner;
            for (ptrdiff_t t = 0; t < steps; ++t) {
                T* __restrict d = dx + (o * steps + t) * inner;
                if (m && !m[t]) {
                    std::memset(d, 0, static_cast<std::size_t>(inner) * sizeof(T));
                    continue;
                }
                for (ptrdiff_t j = 0; j < inner; ++j) d[j] = g[j] / count;
            }
        }
    });
}

template <class T>
void global_max_pool_forward(const T* x, ptrdiff_t outer, ptrdiff_t steps, ptrdiff_t inner, T* y,
                             std::int64_t* argmax) {
    if (steps <= 0) return;
    parallel_for(outer, outer_grain(steps, inner), [&](ptrdiff_t o0, ptrdiff_t o1) {
        for (ptrdiff_t o = o0; o < o1; ++o) {
            const T* xo = x + o * steps * inner;
            T* __restrict best = y + o * inner;
            std::int64_t* __restrict at = argmax + o * inner;
            for (ptrdiff_t j = 0; j < inner; ++j) {
                best[j] = xo[j];
                at[j] = 0;
            }
            for (ptrdiff_t t = 1; t < steps; ++t) {
                const T* __restrict row = xo + t * inner;
                for (ptrdiff_t j = 0; j < inner; ++j) {
                    const T v = row[j];
                    // Strictly greater keeps the first maximum; a NaN replaces a number.
                    const bool take = v > best[j] || (v != v && best[j] == best[j]);
                    best[j] = take ? v : best[j];
                    at[j] = take ? t : at[j];
                }
            }
        }
    });
}

template <class T>
void global_max_pool_backward(const T* dy, const std::int64_t* argmax, ptrdiff_t outer,
                              ptrdiff_t steps, ptrdiff_t inner, T* dx) {
    parallel_for(outer, outer_grain(steps, inner), [&](ptrdiff_t o0, ptrdiff_t o1) {
        std::memset(dx + o0 * steps * inner, 0,
                    static_cast<std::size_t>((o1 - o0) * steps * inner) * sizeof(T));
        for (ptrdiff_t o = o0; o < o1; ++o) {
            for (ptrdiff_t j = 0; j < inner; ++j) {
                dx[(o * steps + argmax[o * inner + j]) * inner + j] = dy[o * inner + j];
            }
        }
    });
}

#define PYDL_POOLING_INSTANTIATE(T)                                                            \
    template void global_average_pool_forward<T>(const T*, const std::uint8_t*, ptrdiff_t,      \
                                                 ptrdiff_t, ptrdiff_t, ptrdiff_t, T*);          \
    template void global_average_pool_backward<T>(const T*, const std::uint8_t*, ptrdiff_t,     \
                                                  ptrdiff_t, ptrdiff_t, ptrdiff_t, T*);         \
    template void global_max_pool_forward<T>(const T*, ptrdiff_t, ptrdiff_t, ptrdiff_t, T*,     \
                                             std::int64_t*);                                    \
    template void global_max_pool_backward<T>(const T*, const std::int64_t*, ptrdiff_t,         \
                                              ptrdiff_t, ptrdiff_t, T*);
PYDL_POOLING_INSTANTIATE(float)
PYDL_POOLING_INSTANTIATE(double)
#undef PYDL_POOLING_INSTANTIATE

}  // namespace pydl::nn
