#include "nn/update.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "cpu/threads.h"
#include "nn/reduce.h"

namespace pydl::nn {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

template <class T>
double global_clip_scale(double clip, const OptimizerTensor<T>* tensors, std::ptrdiff_t count) {
    double total = 0.0;
    for (std::ptrdiff_t i = 0; i < count; ++i) total += sum_of_squares(tensors[i].g, tensors[i].n);
    const double norm = std::sqrt(total);
    if (!std::isfinite(norm)) return kNaN;
    return norm > 0.0 ? std::min(clip / norm, 1.0) : 1.0;
}

template <class T>
double norm_clip_scale(double clip, const OptimizerTensor<T>& t) {
    const double norm = std::sqrt(sum_of_squares(t.g, t.n));
    if (std::isnan(norm)) return kNaN;
    return clip / std::max(norm, clip);
}

template <class T>
void moving_average(const UpdateRule& rule, const OptimizerTensor<T>* tensors,
                    std::ptrdiff_t count, long long step) {
    const T m = static_cast<T>(step > 1 ? rule.ema_momentum : 0.0);
    const T one_minus_m = T(1) - m;
    const bool overwrite =
        rule.ema_overwrite_frequency > 0 && step % rule.ema_overwrite_frequency == 0;
    for (std::ptrdiff_t i = 0; i < count; ++i) {
        T* ema = tensors[i].ema;
        T* w = tensors[i].w;
        if (!ema) continue;
        parallel_for(tensors[i].n, 16384, [&](std::ptrdiff_t b, std::ptrdiff_t e) {
            for (std::ptrdiff_t j = b; j < e; ++j) {
                ema[j] = m * ema[j] + one_minus_m * w[j];
                if (overwrite) w[j] = ema[j];
            }
        });
    }
}

// Equal as scalars of a step (NaN == NaN: a NaN scale groups like any other).
bool same(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

}  // namespace

template <class T>
void apply_update(const UpdateRule& rule, const OptimizerTensor<T>* tensors,
                  const double* decays, std::ptrdiff_t count, double lr, long long step) {
    OptimizerStep st = rule.step;
    st.learning_rate = lr;
    st.step = step;
    const double global_scale =
        rule.global_clipnorm > 0.0 ? global_clip_scale(rule.global_clipnorm, tensors, count) : 1.0;
    std::ptrdiff_t begin = 0;
    double begin_scale = 0.0;
    for (std::ptrdiff_t i = 0; i <= count; ++i) {
        double scale = 0.0;
        if (i < count) {
            scale = rule.clipnorm > 0.0 ? norm_clip_scale(rule.clipnorm, tensors[i]) : global_scale;
        }
        const bool joins = i < count && i > begin && same(scale, begin_scale) &&
                           decays[i] == decays[begin];
        if (i > begin && !joins) {
            st.grad_scale = begin_scale;
            st.weight_decay = decays[begin];
            optimizer_step(st, tensors + begin, i - begin);
            begin = i;
        }
        if (i == begin) begin_scale = scale;
    }
    if (rule.ema_momentum >= 0.0) moving_average(rule, tensors, count, step);
}

template void apply_update<float>(const UpdateRule&, const OptimizerTensor<float>*, const double*,
                                  std::ptrdiff_t, double, long long);
template void apply_update<double>(const UpdateRule&, const OptimizerTensor<double>*,
                                   const double*, std::ptrdiff_t, double, long long);

}  // namespace pydl::nn
