// Skinny kernel for the avx512 path: 64 float / 32 double columns per block
// (4 rows x that many columns fill the vector registers without spilling).
#define PYDL_SKINNY_NS avx512_skinny
#include "gemm/skinny_body.h"

namespace pydl::gemm::avx512 {
void install_skinny(SkinnyKernel<float>& f32, SkinnyKernel<double>& f64) {
    f32 = {&avx512_skinny::skinny<float, 64>, 64};
    f64 = {&avx512_skinny::skinny<double, 32>, 32};
}
}  // namespace pydl::gemm::avx512
