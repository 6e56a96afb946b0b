// The loop of the peak probes (gemm/peak.h), written once over a multiply-add
// Op and expanded in the per-ISA files: 24 independent accumulators, `rounds`
// rounds (each a chain the compiler cannot shorten: floating-point, no fast-math),
// the accumulators summed at the end so that nothing is optimized away.
#pragma once

#include <cstdint>

namespace pydl::gemm {

template <class Op>
inline __attribute__((always_inline)) typename Op::acc peak_loop(std::int64_t rounds) {
    constexpr int kAcc = 24;
    typename Op::acc acc[kAcc];
    for (int i = 0; i < kAcc; ++i) acc[i] = Op::init(i);
    const typename Op::operand a = Op::operand_a(), b = Op::operand_b();
    for (std::int64_t r = 0; r < rounds; ++r) {
#pragma GCC unroll 24
        for (int i = 0; i < kAcc; ++i) acc[i] = Op::madd(acc[i], a, b);
    }
    for (int i = 1; i < kAcc; ++i) acc[0] = Op::add(acc[0], acc[i]);
    return acc[0];
}

}  // namespace pydl::gemm
