// The fused training step: a chain of built-in layers, a loss and an optimizer
// run as whole steps -- gather a batch, forward, loss, backward, update -- in one
// call from Python, several steps per call (Keras' steps_per_execution).
//
// Contract: the plan gives bitwise the same weights as the GradientTape path
// (pydl.ops.dense / activations / losses + tape.gradient + Optimizer.apply_gradients)
// because it calls the same kernels with the same arguments in the same order:
//
//   forward   Dense: nn::dense_forward, keeping z exactly when the tape's dense op
//             does (softmax, sigmoid, or an activation whose backward needs z), so
//             that the GEMM epilogue fusion is the same; Activation: the flat
//             element-range (or row) split of _core.activation_forward; Dropout
//             (pydl/ops/dropout.py): y = x * mask, mask = (u >= f32(rate) ? scale : 0)
//             with u the caller's float32 uniforms (the layer generator's draws,
//             one row per sample, rows of the steps in order) and scale =
//             f32(1 / (1 - rate)); a product, not a select, so inf/NaN * 0 stays NaN.
//   loss      nn::loss on the last output; softmax + (sparse) categorical and
//             sigmoid + binary cross-entropy are computed from the logits with
//             from_logits (the tape's fusion), the gradient entering the layer
//             below the final activation. The reported loss is float32(loss),
//             then + each weight penalty in float32, in layer order, kernel before
//             bias (Trainer._loss_value over model.losses; plan_penalty.h).
//   backward  nn::dense_backward per Dense (dz = dy: scratch), dx only where the
//             tape needs it (not for the first Dense), then the penalty gradient
//             added to dw / db (plan_penalty.h); nn::activation_backward_rows per
//             Activation, given its input z and output y as the tape does;
//             dx = dy * mask per Dropout.
//   update    per tensor, in model.trainable_weights order: the clipnorm /
//             global_clipnorm scale computed as Optimizer._norm_clip_scale /
//             _global_clip_scale do, then nn::optimizer_step.
//
// Weights and optimizer slots are owned by Python (the Variables' arrays and the
// optimizer's slot arrays) and updated in place; the plan owns its workspaces,
// allocated once for `max_batch` rows, so a step allocates nothing. float32 only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "nn/activation.h"
#include "nn/loss.h"
#include "nn/optim.h"
#include "plan/plan_penalty.h"

namespace pydl::plan {

enum class LayerKind { dense, activation, dropout };

// One layer of the chain. `in`/`out` are features per sample.
struct LayerSpec {
    LayerKind kind = LayerKind::dense;
    std::ptrdiff_t in = 0;
    std::ptrdiff_t out = 0;  // activation, dropout: equals in
    nn::Activation activation = nn::Activation::linear;
    float alpha = 0.0f;
    float* kernel = nullptr;  // dense: (in, out), updated in place
    float* bias = nullptr;    // dense: (out) or nullptr (use_bias=False)
    WeightPenalty kernel_penalty;  // dense: kernel_regularizer / bias_regularizer
    WeightPenalty bias_penalty;
    float dropout_threshold = 0.0f;  // dropout: f32(rate); kept where u >= it
    float dropout_scale = 1.0f;      // dropout: f32(1 / (1 - rate))
};

struct LossSpec {
    nn::LossKind kind = nn::LossKind::mse;
    bool from_logits = false;
    double delta = 1.0;
};

// The slots and decay of one trainable tensor, in the plan's tensor order:
// for each Dense, its kernel then its bias. Slot meaning as nn::OptimizerTensor.
struct TensorState {
    float* slot[3] = {nullptr, nullptr, nullptr};
    double weight_decay = 0.0;
};

struct OptimizerSpec {
    // kind and hyperparameters; learning_rate, step, grad_scale and weight_decay
    // are set per step and per tensor.
    nn::OptimizerStep rule;
    double clipnorm = 0.0;         // > 0: per-tensor norm clipping
    double global_clipnorm = 0.0;  // > 0: clipping by the global norm
    std::vector<TensorState> tensors;
};

// What one call runs on. Rows of x (and y, sample_weight) are samples; the
// steps take consecutive runs of `indices`, starting at position `first`.
struct RunArgs {
    const float* x = nullptr;                 // (num_samples, input_features)
    const float* y = nullptr;                 // dense targets (num_samples, output_features)
    const std::int64_t* labels_i64 = nullptr; // or sparse targets (num_samples)
    const std::int32_t* labels_i32 = nullptr;
    const float* sample_weight = nullptr;     // (num_samples) or nullptr
    const std::int64_t* indices = nullptr;    // sample order (all in range: checked by the caller)
    std::ptrdiff_t num_indices = 0;
    std::ptrdiff_t first = 0;
    std::ptrdiff_t batch_size = 0;            // <= max_batch
    std::ptrdiff_t steps = 0;                 // each step has >= 1 row (checked by the caller)
    const double* learning_rates = nullptr;   // one per step
    long long iterations = 0;                 // optimizer.iterations before the first step
    float* losses = nullptr;                  // one per step: float32 of the loss value
    // Rows of every step x output_features, or nullptr: then a fused loss's final
    // softmax / sigmoid is not computed at all (nothing else reads it).
    float* predictions = nullptr;
    // One per dropout layer, in layer order: (rows of every step, features)
    // uniforms in [0, 1), row r for the r-th row the steps take.
    const float* const* dropout_uniforms = nullptr;
};

class TrainPlan {
public:
    // Throws std::invalid_argument when the specs do not chain (the bindings
    // check everything first and report it in Python terms).
    TrainPlan(std::ptrdiff_t input_features, std::vector<LayerSpec> layers, LossSpec loss,
              OptimizerSpec optimizer, std::ptrdiff_t max_batch);
    TrainPlan(const TrainPlan&) = delete;
    TrainPlan& operator=(const TrainPlan&) = delete;

    // Runs `args.steps` training steps. Not reentrant: concurrent calls on one
    // plan are refused by the caller (see try_lock).
    void run(const RunArgs& args);

    std::ptrdiff_t input_features() const { return input_features_; }
    std::ptrdiff_t output_features() const { return layers_.back().out; }
    std::ptrdiff_t max_batch() const { return max_batch_; }
    std::ptrdiff_t num_tensors() const { return static_cast<std::ptrdiff_t>(tensors_.size()); }
    std::ptrdiff_t num_dropout() const { return num_dropout_; }
    // Features of the index-th dropout layer.
    std::ptrdiff_t dropout_features(std::ptrdiff_t index) const;
    // True when the loss is computed from the logits below a final softmax/sigmoid.
    bool fused_loss() const { return fused_; }
    std::mutex& mutex() { return mutex_; }

private:
    // Per layer: output, kept pre-activation, gradient at the output.
    struct Buffers {
        std::vector<float> y, z, dy;
        bool keep_z = false;
    };

    void gather(const RunArgs& a, std::ptrdiff_t start, std::ptrdiff_t rows);
    void prefetch_next_batch(const RunArgs& a, std::ptrdiff_t start);
    // The loss of the step (float32, penalties included). `row` is the step's
    // first row among the call's rows (its dropout uniforms).
    float forward_and_loss(const RunArgs& a, std::ptrdiff_t row, std::ptrdiff_t rows,
                           bool weighted, bool labels64, bool want_outputs);
    void backward(const RunArgs& a, std::ptrdiff_t row, std::ptrdiff_t rows);
    const float* dropout_rows(const RunArgs& a, std::size_t layer, std::ptrdiff_t row) const;
    void update(double learning_rate, long long step);
    const float* layer_input(std::size_t i) const;

    std::ptrdiff_t input_features_;
    std::vector<LayerSpec> layers_;
    LossSpec loss_;
    OptimizerSpec optimizer_;
    std::ptrdiff_t max_batch_;
    bool fused_ = false;
    std::size_t first_dense_ = 0;
    std::ptrdiff_t num_dropout_ = 0;
    std::vector<std::ptrdiff_t> dropout_index_;  // per layer: its dropout number, or -1

    std::vector<Buffers> buffers_;
    std::vector<float> x_batch_, y_batch_, weight_batch_;
    std::vector<std::int64_t> labels64_batch_;
    std::vector<std::int32_t> labels32_batch_;
    std::vector<std::vector<float>> grads_;          // one per tensor
    std::vector<nn::OptimizerTensor<float>> tensors_;  // w, g, slots
    std::mutex mutex_;
};

}  // namespace pydl::plan
