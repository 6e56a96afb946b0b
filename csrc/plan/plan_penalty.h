// Weight penalties of pydl.regularizers (L1, L2, L1L2) as the GradientTape path
// computes them in float32, bit for bit, for the fused plan:
//
//   value     L1L2.__call__: multiply(sum(abs(w)), l1), multiply(sum(square(w)), l2),
//             added when both factors are nonzero (multiply(sum(w), 0.0) when none
//             is). Every op runs in float32 (the Python factor is a weak scalar,
//             rounded to float32 first); `sum` is NumPy's float32 add.reduce over
//             the whole contiguous array: 0 + pairwise_sum(all elements), with
//             NumPy's 8-accumulator blocks of <= 128 (numpy/_core/src/umath/
//             loops_utils.h.src, checked against np.sum in tests/plan).
//   gradient  the tape's chain: d(l1 term) = f32(l1) * sign(w), d(l2 term) =
//             (f32(l2) * 2) * w, accumulated after the data gradient in the order
//             the tape's reverse topological walk reaches them: g = (g + d_l1) + d_l2
//             (g + 0 when both factors are 0). One rounding per operation.
#pragma once

#include <cstddef>

namespace pydl::plan {

struct WeightPenalty {
    bool active = false;  // the weight has a regularizer
    bool use_l1 = false;  // l1 != 0 (as the Python `if self.l1`)
    bool use_l2 = false;
    float l1 = 0.0f;      // float32 of the factor
    float l2 = 0.0f;
};

// NumPy's float32 np.sum of f(w) over n elements (n >= 0), f = identity, |w| or w*w.
enum class SumOf { value, abs, square };
float numpy_sum(const float* w, std::ptrdiff_t n, SumOf f);

// The penalty value (float32) of one weight of n elements.
float penalty_value(const WeightPenalty& p, const float* w, std::ptrdiff_t n);

// g += d(penalty)/dw as the tape accumulates it (parallel, element-wise).
void add_penalty_gradient(const WeightPenalty& p, const float* w, float* g, std::ptrdiff_t n);

}  // namespace pydl::plan
