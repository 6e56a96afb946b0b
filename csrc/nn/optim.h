// Optimizer updates, Keras 3's rules exactly (docs/core_api.md, "Optimizers").
//
// One step updates a variable w and its slots in place, element by element, in
// a single fused pass; the gradient g is only read. Per element, in T:
//
//   g = g * grad_scale                        (clipnorm / global_clipnorm)
//   g = clip(g, -clip_value, clip_value)      (clipvalue; inf = off; NaN passes)
//   w = w - w * weight_decay * lr             (only when weight_decay != 0)
//   then the rule of the kind:
//   sgd      m == nullptr: w -= lr * g
//            else m = momentum * m - lr * g;  w += nesterov ? momentum * m - lr * g : m
//   adagrad  acc += g * g;  w -= lr * g / sqrt(acc + eps)
//   rmsprop  v = rho * v + (1 - rho) * g * g
//            centered: mg = rho * mg + (1 - rho) * g;  den = v - mg * mg + eps, else den = v + eps
//            inc = lr * g / sqrt(den)
//            momentum > 0: mom = momentum * mom + inc;  w -= mom, else w -= inc
//   adam     m += (g - m) * (1 - beta_1);  v += (g * g - v) * (1 - beta_2)
//            vhat != nullptr (amsgrad): vhat = max(vhat, v), used in place of v
//            w -= m * alpha / (sqrt(v) + eps),  alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
//
// Scalars are given in double and rounded to T once per call (alpha is formed in
// double first). Element-wise, so bitwise identical at any thread count.
#pragma once

#include <cstddef>
#include <limits>

namespace pydl::nn {

enum class OptimizerKind : int { sgd, adagrad, rmsprop, adam };

// The scalars of one step (one mechanism; variants are settings).
struct OptimizerStep {
    OptimizerKind kind = OptimizerKind::sgd;
    double learning_rate = 0.01;
    double momentum = 0.0;   // sgd (needs slot 0), rmsprop (> 0 needs slot 1)
    bool nesterov = false;   // sgd
    double rho = 0.9;        // rmsprop
    bool centered = false;   // rmsprop (needs slot 2)
    double beta_1 = 0.9;     // adam
    double beta_2 = 0.999;   // adam
    long long step = 1;      // adam: t, 1-based (the iteration count after this update)
    double epsilon = 1e-7;   // adagrad, rmsprop, adam
    // Base-optimizer transforms, shared by every kind.
    double grad_scale = 1.0;
    double clip_value = std::numeric_limits<double>::infinity();
    double weight_decay = 0.0;
};

// One variable, its gradient and its slots (all n elements, distinct arrays).
//   sgd:     slot[0] = momentum buffer m, or nullptr (plain sgd)
//   adagrad: slot[0] = accumulator
//   rmsprop: slot[0] = velocity v, slot[1] = momentum (when momentum > 0),
//            slot[2] = average gradient mg (when centered)
//   adam:    slot[0] = m, slot[1] = v, slot[2] = vhat (amsgrad) or nullptr
template <class T>
struct OptimizerTensor {
    T* w = nullptr;
    const T* g = nullptr;
    T* slot[3] = {nullptr, nullptr, nullptr};
    std::ptrdiff_t n = 0;
    T* ema = nullptr;  // the moving average of w (nn/update.h), when the rule keeps one
};

// Updates `count` tensors with one parallel region over all their elements (so
// that a model's many small tensors share the threads). Runs serially when the
// total is small or when called from inside a parallel region.
template <class T>
void optimizer_step(const OptimizerStep& step, const OptimizerTensor<T>* tensors,
                    std::ptrdiff_t count);

// Serial: elements [begin, end) of one tensor, for a caller that already runs
// inside its own parallel region. Dispatches to the installed SIMD path.
template <class T>
void optimizer_step_range(const OptimizerStep& step, const OptimizerTensor<T>& tensor,
                          std::ptrdiff_t begin, std::ptrdiff_t end);

}  // namespace pydl::nn
