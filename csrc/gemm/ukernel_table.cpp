// The generic (reference) microkernels and the installer that overrides them
// with the SIMD path's (cpu/isa.h).
#include "gemm/ukernel.h"
#include "gemm/ukernel_ref.h"

namespace pydl::gemm {
namespace {

UkernelTable generic_table() {
    // {packed, strided, mr, nr, mc, kc, nc, name}; one kernel per type: no
    // narrow kernel (narrow == main), and MR 4 already divides the usual sizes.
    UkernelTable t;
    t.f32.tall.main = {gemm_ukernel_ref<float, 4, 8>, gemm_ukernel_ref<float, 4, 8>,
                       4, 8, 128, 256, 2048, "f32_gemm_ukernel_4x8__ref"};
    t.f32.tall.narrow = t.f32.tall.main;
    t.f32.short_rows = t.f32.tall;
    t.f64.tall.main = {gemm_ukernel_ref<double, 4, 4>, gemm_ukernel_ref<double, 4, 4>,
                       4, 4, 64, 256, 2048, "f64_gemm_ukernel_4x4__ref"};
    t.f64.tall.narrow = t.f64.tall.main;
    t.f64.short_rows = t.f64.tall;
    return t;
}

UkernelTable g_table = generic_table();

void install(Isa isa) {
    g_table = generic_table();
#if defined(PYDL_X86)
    if (isa >= Isa::avx2) g_table = avx2::ukernel_table();
    if (isa >= Isa::avx512) g_table = avx512::ukernel_table();
#endif
#if defined(PYDL_X86) && defined(PYDL_BF16)
    if (isa >= Isa::avx512_bf16) g_table.bf16 = avx512_bf16::bf16_kernels();
#endif
}
PYDL_REGISTER_KERNELS(install);

}  // namespace

const UkernelTable& ukernels() { return g_table; }

}  // namespace pydl::gemm
