// Peak probes: register-only loops of independent multiply-adds that measure
// what one core can do with the GEMM's own instructions (the benchmarks' "% of
// peak" for the bf16 workload). Nothing but the loop: no memory traffic, 24
// independent accumulators (enough to hide the latency of either instruction).
#pragma once

#include <cstdint>

namespace pydl::gemm {

enum class PeakKind { f32_fma, bf16_dot };

// Runs `rounds` rounds of 24 zmm multiply-adds of `kind` (VFMADD231PS, 32 flops
// each; VDPBF16PS, 64 flops each) on the calling thread and returns the flops
// done, or 0 when the active SIMD path lacks the instruction (cpu/isa.h).
double peak_probe(PeakKind kind, std::int64_t rounds);

}  // namespace pydl::gemm

namespace pydl::gemm::avx512 {
double peak_probe_f32(std::int64_t rounds);
}
namespace pydl::gemm::avx512_bf16 {
double peak_probe_bf16(std::int64_t rounds);
}
