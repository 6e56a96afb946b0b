#include "gemm/peak.h"

#include "cpu/isa.h"

namespace pydl::gemm {

double peak_probe(PeakKind kind, std::int64_t rounds) {
#if defined(PYDL_X86)
    const Isa isa = active_isa();
    if (kind == PeakKind::f32_fma && isa >= Isa::avx512) return avx512::peak_probe_f32(rounds);
#if defined(PYDL_BF16)
    if (kind == PeakKind::bf16_dot && isa >= Isa::avx512_bf16)
        return avx512_bf16::peak_probe_bf16(rounds);
#endif
#endif
    (void)kind;
    (void)rounds;
    return 0.0;
}

}  // namespace pydl::gemm
