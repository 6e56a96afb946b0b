// Portable skinny kernel and its dispatch (the SIMD versions override it).
#include "gemm/skinny.h"

#include "cpu/isa.h"

#define PYDL_SKINNY_NS generic
#include "gemm/skinny_body.h"

namespace pydl::gemm {
namespace {

struct SkinnyTable {
    SkinnyKernel<float> f32;
    SkinnyKernel<double> f64;
};

SkinnyTable& table() {
    static SkinnyTable t;
    return t;
}

void install(Isa isa) {
    SkinnyTable& t = table();
    t.f32 = {&generic::skinny<float, 16>, 16};
    t.f64 = {&generic::skinny<double, 8>, 8};
    if (isa >= Isa::avx2) avx2::install_skinny(t.f32, t.f64);
    if (isa >= Isa::avx512) avx512::install_skinny(t.f32, t.f64);
}
PYDL_REGISTER_KERNELS(install);

}  // namespace

template <>
const SkinnyKernel<float>& skinny_kernel<float>() { return table().f32; }
template <>
const SkinnyKernel<double>& skinny_kernel<double>() { return table().f64; }

}  // namespace pydl::gemm
