// The optimizer part of a plan step: the same scalars as
// pydl.optimizers.Optimizer.apply_gradients, then the same kernel.
#include <algorithm>
#include <cmath>
#include <limits>

#include "nn/reduce.h"
#include "plan/train_plan.h"

namespace pydl::plan {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Optimizer._global_clip_scale: clip * min(1/norm, 1/clip); NaN when the norm is
// not finite. The norm is _core.global_norm's: sum_of_squares per tensor, added
// in order, then sqrt.
double global_clip_scale(double clip, const std::vector<nn::OptimizerTensor<float>>& tensors) {
    double total = 0.0;
    for (const auto& t : tensors) total += nn::sum_of_squares(t.g, t.n);
    const double norm = std::sqrt(total);
    if (!std::isfinite(norm)) return kNaN;
    return norm > 0.0 ? std::min(clip / norm, 1.0) : 1.0;
}

// Optimizer._norm_clip_scale: clipnorm / max(||g||, clipnorm); NaN for a NaN norm.
double norm_clip_scale(double clip, const nn::OptimizerTensor<float>& t) {
    const double norm = std::sqrt(nn::sum_of_squares(t.g, t.n));
    if (std::isnan(norm)) return kNaN;
    return clip / std::max(norm, clip);
}

}  // namespace

void TrainPlan::update(double learning_rate, long long step) {
    nn::OptimizerStep st = optimizer_.rule;
    st.learning_rate = learning_rate;
    st.step = step;
    const double global_scale = optimizer_.global_clipnorm > 0.0
                                    ? global_clip_scale(optimizer_.global_clipnorm, tensors_)
                                    : 1.0;
    // Consecutive tensors that share their scalars go to one optimizer_step call
    // (one parallel region); the update is element-wise, so grouping does not
    // change a bit of the result.
    const std::size_t n = tensors_.size();
    std::size_t begin = 0;
    double begin_scale = 0.0;
    for (std::size_t i = 0; i <= n; ++i) {
        double scale = 0.0;
        if (i < n) {
            scale = optimizer_.clipnorm > 0.0 ? norm_clip_scale(optimizer_.clipnorm, tensors_[i])
                                              : global_scale;
        }
        const bool same = i < n && i > begin && scale == begin_scale &&
                          optimizer_.tensors[i].weight_decay ==
                              optimizer_.tensors[begin].weight_decay;
        if (i > begin && !same) {
            st.grad_scale = begin_scale;
            st.weight_decay = optimizer_.tensors[begin].weight_decay;
            nn::optimizer_step(st, tensors_.data() + begin, static_cast<std::ptrdiff_t>(i - begin));
            begin = i;
        }
        if (i == begin) begin_scale = scale;
    }
}

}  // namespace pydl::plan
