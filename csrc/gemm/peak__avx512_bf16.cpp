// The bfloat16 peak probe (gemm/peak.h): VDPBF16PS on zmm (32 pair products per
// instruction, summed into 16 float32 lanes).
#include <immintrin.h>

#include "gemm/peak.h"
#include "gemm/peak_loop.h"

namespace pydl::gemm::avx512_bf16 {
namespace {

struct Dot {
    using acc = __m512;
    using operand = __m512bh;
    static acc init(int i) { return _mm512_set1_ps(static_cast<float>(i) * 1e-3f); }
    static operand pairs(float odd, float even) {
        return _mm512_cvtne2ps_pbh(_mm512_set1_ps(odd), _mm512_set1_ps(even));
    }
    static operand operand_a() { return pairs(0.5f, 0.25f); }
    static operand operand_b() { return pairs(1e-3f, 2e-3f); }
    static acc madd(acc c, operand a, operand b) { return _mm512_dpbf16_ps(c, a, b); }
    static acc add(acc x, acc y) { return _mm512_add_ps(x, y); }
};

}  // namespace

double peak_probe_bf16(std::int64_t rounds) {
    volatile float sink = _mm512_reduce_add_ps(peak_loop<Dot>(rounds));
    (void)sink;
    return 24.0 * 64.0 * static_cast<double>(rounds);
}

}  // namespace pydl::gemm::avx512_bf16
