// The generic (baseline) copy of the normalization loops and the installed table.
#include "nn/norm_kernels.h"

#include "cpu/isa.h"

#define PYDL_NORM_NS generic
#include "nn/norm_loops.h"
#undef PYDL_NORM_NS

namespace pydl::nn::norm_detail {
namespace {

struct Tables {
    NormTable<float> f32 = generic::table_f32();
    NormTable<double> f64 = generic::table_f64();
};
Tables g_tables;

void install(Isa isa) {
    Tables t;
#if defined(PYDL_X86)
    if (isa >= Isa::avx2) {
        t.f32 = avx2::table_f32();
        t.f64 = avx2::table_f64();
    }
    if (isa >= Isa::avx512) {
        t.f32 = avx512::table_f32();
        t.f64 = avx512::table_f64();
    }
#endif
    g_tables = t;
}
PYDL_REGISTER_KERNELS(install);

}  // namespace

const NormTable<float>& norm_table(float*) { return g_tables.f32; }
const NormTable<double>& norm_table(double*) { return g_tables.f64; }

}  // namespace pydl::nn::norm_detail
