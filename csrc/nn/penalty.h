// L1 / L2 weight penalties (pydl.regularizers.L1, L2, L1L2), the one kernel both
// training paths use (the tape's regularizer op and the fused plan):
//
//   value     l1 * sum(|w|) + l2 * sum(w * w)   (a term only when its factor is != 0)
//             each sum accumulated in double over fixed blocks (nn/reduce.h), the
//             value formed in double and rounded to T once
//   gradient  g[i] = l1 * sign(w[i]) + (2 * l2) * w[i], in T (each term only when
//             its factor is != 0; 0 when both are)
//
// Deterministic: the same bits at any thread count.
#pragma once

#include <cstddef>

namespace pydl::nn {

struct WeightPenalty {
    double l1 = 0.0;
    double l2 = 0.0;
};

template <class T>
T penalty_value(const WeightPenalty& p, const T* w, std::ptrdiff_t n);

// g = d(penalty)/dw (assigned, not accumulated).
template <class T>
void penalty_gradient(const WeightPenalty& p, const T* w, T* g, std::ptrdiff_t n);

}  // namespace pydl::nn
