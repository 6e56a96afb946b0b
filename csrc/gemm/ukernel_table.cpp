// The generic (reference) microkernels and the installer that overrides them
// with the SIMD path's (cpu/isa.h).
#include "gemm/ukernel.h"
#include "gemm/ukernel_ref.h"

namespace pydl::gemm {
namespace {

UkernelTable generic_table() {
    UkernelTable t;
    t.f32.fn = gemm_ukernel_ref<float, 4, 8>;
    t.f32.mr = 4;
    t.f32.nr = 8;
    t.f32.mc = 128;
    t.f32.kc = 256;
    t.f32.nc = 2048;
    t.f32.name = "f32_gemm_ukernel_4x8__ref";
    t.f64.fn = gemm_ukernel_ref<double, 4, 4>;
    t.f64.mr = 4;
    t.f64.nr = 4;
    t.f64.mc = 64;
    t.f64.kc = 256;
    t.f64.nc = 2048;
    t.f64.name = "f64_gemm_ukernel_4x4__ref";
    return t;
}

UkernelTable g_table = generic_table();

void install(Isa isa) {
    g_table = generic_table();
#if defined(PYDL_X86)
    if (isa >= Isa::avx2) g_table = avx2::ukernel_table();
    if (isa >= Isa::avx512) g_table = avx512::ukernel_table();
#endif
}
PYDL_REGISTER_KERNELS(install);

}  // namespace

const UkernelTable& ukernels() { return g_table; }

}  // namespace pydl::gemm
