// One optimizer update of several tensors, Keras 3's order, written once for both
// training paths (Optimizer.apply_gradients on the tape via _core.UpdateRule.apply,
// and the fused plan's update):
//
//   scale = global_clipnorm ? clip * min(1/||all g||, 1/clip) (NaN if the norm is not finite)
//         : 1
//   per tensor, in order:
//     scale_i = clipnorm ? clipnorm / max(||g_i||, clipnorm) (NaN for a NaN norm) : scale
//     nn::optimizer_step(rule with grad_scale = scale_i, weight_decay = decay_i)
//
//   then, when the rule keeps a moving average (Keras' use_ema), per tensor:
//     m = step > 1 ? ema_momentum : 0             (the first step copies w)
//     ema = m * ema + (1 - m) * w                 (in T, m rounded to T)
//     every ema_overwrite_frequency steps: w = ema
//
// Norms are nn::sum_of_squares (double, fixed blocks), the global one summed over the
// tensors in order. Consecutive tensors sharing scale and decay share one parallel
// region; the update is element-wise, so the grouping never changes a bit.
#pragma once

#include <cstddef>

#include "nn/optim.h"

namespace pydl::nn {

struct UpdateRule {
    OptimizerStep step;            // kind and hyperparameters (clip_value included)
    double clipnorm = 0.0;         // > 0: per-tensor norm clipping
    double global_clipnorm = 0.0;  // > 0: clipping by the global norm
    double ema_momentum = -1.0;    // >= 0: keep a moving average of every tensor (ema)
    long long ema_overwrite_frequency = 0;  // > 0: w = ema every that many steps
};

// Updates `count` tensors (w, g, slots) in place with learning rate `lr` at step
// `step` (1-based, the iteration count after this update). decays[i] is tensor i's
// weight decay (0: none).
template <class T>
void apply_update(const UpdateRule& rule, const OptimizerTensor<T>* tensors,
                  const double* decays, std::ptrdiff_t count, double lr, long long step);

}  // namespace pydl::nn
