// Optimizer steps: per-call scalars, the SIMD dispatch table, and the parallel
// driver over one or many tensors. Also the generic (baseline) copy of the loops.
#include "nn/optim.h"

#include <cmath>

#include "cpu/isa.h"
#include "cpu/threads.h"
#include "nn/optim_kernels.h"

#define PYDL_OPTIM_NS generic
#include "nn/optim_loops.h"
#undef PYDL_OPTIM_NS

namespace pydl::nn {

namespace {

using optim_detail::RangeKernel;
using optim_detail::Scalars;

// Elements per thread below which splitting costs more than it saves (an
// update is a few nanoseconds per element; a parallel region a few microseconds).
constexpr std::ptrdiff_t kGrain = 16384;

struct Kernels {
    RangeKernel<float> f32 = optim_detail::generic::step_range_f32;
    RangeKernel<double> f64 = optim_detail::generic::step_range_f64;
};
Kernels g_kernels;

void install(Isa isa) {
    Kernels k;
#if defined(PYDL_X86)
    if (isa >= Isa::avx2) {
        k.f32 = optim_detail::avx2::step_range_f32;
        k.f64 = optim_detail::avx2::step_range_f64;
    }
    if (isa >= Isa::avx512) {
        k.f32 = optim_detail::avx512::step_range_f32;
        k.f64 = optim_detail::avx512::step_range_f64;
    }
#endif
    g_kernels = k;
}
PYDL_REGISTER_KERNELS(install);

RangeKernel<float> kernel_for(float*) { return g_kernels.f32; }
RangeKernel<double> kernel_for(double*) { return g_kernels.f64; }

template <class T>
Scalars<T> scalars_of(const OptimizerStep& st) {
    Scalars<T> s;
    s.lr = static_cast<T>(st.learning_rate);
    s.momentum = static_cast<T>(st.momentum);
    s.rho = static_cast<T>(st.rho);
    s.one_minus_rho = static_cast<T>(1.0 - st.rho);
    s.epsilon = static_cast<T>(st.epsilon);
    s.one_minus_beta_1 = static_cast<T>(1.0 - st.beta_1);
    s.one_minus_beta_2 = static_cast<T>(1.0 - st.beta_2);
    const double t = static_cast<double>(st.step);
    s.alpha = static_cast<T>(st.learning_rate * std::sqrt(1.0 - std::pow(st.beta_2, t)) /
                             (1.0 - std::pow(st.beta_1, t)));
    s.grad_scale = static_cast<T>(st.grad_scale);
    s.clip_value = static_cast<T>(st.clip_value);
    s.weight_decay = static_cast<T>(st.weight_decay);
    return s;
}

}  // namespace

template <class T>
void optimizer_step_range(const OptimizerStep& step, const OptimizerTensor<T>& tensor,
                          std::ptrdiff_t begin, std::ptrdiff_t end) {
    if (begin >= end) return;
    kernel_for(static_cast<T*>(nullptr))(step, scalars_of<T>(step), tensor, begin, end);
}

template <class T>
void optimizer_step(const OptimizerStep& step, const OptimizerTensor<T>* tensors,
                    std::ptrdiff_t count) {
    std::ptrdiff_t total = 0;
    for (std::ptrdiff_t i = 0; i < count; ++i) total += tensors[i].n;
    if (total <= 0) return;
    const Scalars<T> s = scalars_of<T>(step);
    const RangeKernel<T> kernel = kernel_for(static_cast<T*>(nullptr));
    // The tensors are laid end to end; each thread takes one contiguous range of
    // that concatenation and updates the pieces of the tensors it covers.
    parallel_for(total, kGrain, [&](std::ptrdiff_t begin, std::ptrdiff_t end) {
        std::ptrdiff_t offset = 0;
        for (std::ptrdiff_t i = 0; i < count && offset < end; ++i) {
            const std::ptrdiff_t n = tensors[i].n;
            const std::ptrdiff_t lo = std::max(begin, offset) - offset;
            const std::ptrdiff_t hi = std::min(end, offset + n) - offset;
            if (lo < hi) kernel(step, s, tensors[i], lo, hi);
            offset += n;
        }
    });
}

template void optimizer_step<float>(const OptimizerStep&, const OptimizerTensor<float>*, std::ptrdiff_t);
template void optimizer_step<double>(const OptimizerStep&, const OptimizerTensor<double>*, std::ptrdiff_t);
template void optimizer_step_range<float>(const OptimizerStep&, const OptimizerTensor<float>&,
                                          std::ptrdiff_t, std::ptrdiff_t);
template void optimizer_step_range<double>(const OptimizerStep&, const OptimizerTensor<double>&,
                                           std::ptrdiff_t, std::ptrdiff_t);

}  // namespace pydl::nn
