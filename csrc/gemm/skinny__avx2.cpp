// Skinny kernel for the avx2 path: 32 float / 16 double columns per block
// (4 rows x that many columns fill the vector registers without spilling).
#define PYDL_SKINNY_NS avx2_skinny
#include "gemm/skinny_body.h"

namespace pydl::gemm::avx2 {
void install_skinny(SkinnyKernel<float>& f32, SkinnyKernel<double>& f64) {
    f32 = {&avx2_skinny::skinny<float, 32>, 32};
    f64 = {&avx2_skinny::skinny<double, 16>, 16};
}
}  // namespace pydl::gemm::avx2
