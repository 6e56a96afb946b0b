// The float32 peak probe (gemm/peak.h): VFMADD231PS on zmm.
#include <immintrin.h>

#include "gemm/peak.h"
#include "gemm/peak_loop.h"

namespace pydl::gemm::avx512 {
namespace {

struct Fma {
    using acc = __m512;
    using operand = __m512;
    static acc init(int i) { return _mm512_set1_ps(static_cast<float>(i) * 1e-3f); }
    static operand operand_a() { return _mm512_set1_ps(0.999f); }
    static operand operand_b() { return _mm512_set1_ps(1e-3f); }
    static acc madd(acc c, operand a, operand b) { return _mm512_fmadd_ps(a, b, c); }
    static acc add(acc x, acc y) { return _mm512_add_ps(x, y); }
};

}  // namespace

double peak_probe_f32(std::int64_t rounds) {
    volatile float sink = _mm512_reduce_add_ps(peak_loop<Fma>(rounds));
    (void)sink;
    return 24.0 * 32.0 * static_cast<double>(rounds);
}

}  // namespace pydl::gemm::avx512
