// Every product below must round to float32 before the addition that follows
// (NumPy rounds each op): a fused multiply-add would change bits. The release
// build has no FMA in this baseline-ISA file; the pragma keeps a -march=native
// build (PYDL_NATIVE) exact too. Clang contracts only within one expression,
// and every product here is a statement of its own.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off")
#endif

#include "plan/plan_penalty.h"

#include <cmath>

#include "cpu/threads.h"

namespace pydl::plan {

using std::ptrdiff_t;

namespace {

// numpy's PW_BLOCKSIZE.
constexpr ptrdiff_t kPairwiseBlock = 128;

struct Identity {
    float operator()(float v) const { return v; }
};
struct Abs {
    float operator()(float v) const { return std::fabs(v); }
};
struct Square {
    float operator()(float v) const { return v * v; }
};

// @TYPE@_pairwise_sum of NumPy for float32: n < 8 sequential from 0; n <= 128
// eight accumulators then ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)) then the rest;
// larger: split at n/2 rounded down to a multiple of 8 and add the halves.
template <class F>
float pairwise_sum(const float* a, ptrdiff_t n, F f) {
    if (n < 8) {
        float res = 0.0f;
        for (ptrdiff_t i = 0; i < n; ++i) res += f(a[i]);
        return res;
    }
    if (n <= kPairwiseBlock) {
        float r[8];
        for (int j = 0; j < 8; ++j) r[j] = f(a[j]);
        ptrdiff_t i = 8;
        for (; i < n - (n % 8); i += 8) {
            for (int j = 0; j < 8; ++j) r[j] += f(a[i + j]);
        }
        float res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; ++i) res += f(a[i]);
        return res;
    }
    ptrdiff_t n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise_sum(a, n2, f) + pairwise_sum(a + n2, n - n2, f);
}

// numpy's sign: 1, -1, +0 for +-0, NaN for NaN. Without branches: random signs
// would mispredict one in two.
inline float numpy_sign(float v) {
    const float s = static_cast<float>(v > 0.0f) - static_cast<float>(v < 0.0f);
    return v == v ? s : v;
}

constexpr ptrdiff_t kElementGrain = 16384;

// g[i] = (g[i] + c1 * sign(w[i])) + c2 * w[i], each term where used.
template <bool L1, bool L2>
void add_gradient_range(const float* w, float* g, ptrdiff_t begin, ptrdiff_t end, float c1,
                        float c2) {
    for (ptrdiff_t i = begin; i < end; ++i) {
        float v = g[i];
        if (L1) {
            const float d = c1 * numpy_sign(w[i]);
            v += d;
        }
        if (L2) {
            const float d = c2 * w[i];
            v += d;
        }
        g[i] = v;
    }
}

}  // namespace

float numpy_sum(const float* w, ptrdiff_t n, SumOf f) {
    // add.reduce starts from the identity 0 and adds the pairwise sum of all n.
    switch (f) {
        case SumOf::abs: return 0.0f + pairwise_sum(w, n, Abs{});
        case SumOf::square: return 0.0f + pairwise_sum(w, n, Square{});
        default: return 0.0f + pairwise_sum(w, n, Identity{});
    }
}

float penalty_value(const WeightPenalty& p, const float* w, ptrdiff_t n) {
    if (!p.use_l1 && !p.use_l2) return numpy_sum(w, n, SumOf::value) * 0.0f;
    float penalty = 0.0f;
    if (p.use_l1) penalty = numpy_sum(w, n, SumOf::abs) * p.l1;
    if (p.use_l2) {
        const float term = numpy_sum(w, n, SumOf::square) * p.l2;
        penalty = p.use_l1 ? penalty + term : term;
    }
    return penalty;
}

void add_penalty_gradient(const WeightPenalty& p, const float* w, float* g, ptrdiff_t n) {
    if (!p.use_l1 && !p.use_l2) {
        // multiply(sum(w), 0.0): a zero gradient is still added (-0 becomes +0).
        parallel_for(n, kElementGrain, [&](ptrdiff_t b, ptrdiff_t e) {
            for (ptrdiff_t i = b; i < e; ++i) g[i] += 0.0f;
        });
        return;
    }
    const float c1 = p.l1;          // the seed 1 times f32(l1)
    const float c2 = p.l2 * 2.0f;   // (g * 2) of square's backward: exact
    const bool l1 = p.use_l1, l2 = p.use_l2;
    parallel_for(n, kElementGrain, [&](ptrdiff_t b, ptrdiff_t e) {
        if (l1 && l2) add_gradient_range<true, true>(w, g, b, e, c1, c2);
        else if (l1) add_gradient_range<true, false>(w, g, b, e, c1, c2);
        else add_gradient_range<false, true>(w, g, b, e, c1, c2);
    });
}

}  // namespace pydl::plan
