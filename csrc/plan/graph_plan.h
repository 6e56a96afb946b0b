// The fused training step of a model graph: gather a batch, forward through the
// nodes, the losses of the outputs, backward, one optimizer update -- whole steps
// in one call from Python, several steps per call (Keras' steps_per_execution).
//
// Values. Value v < num_inputs is model input v, gathered from the caller's data;
// node k writes value num_inputs + k. Nodes come in execution order (a topological
// order of the graph: every input of a node is written before it).
//
// Contract: the plan gives bitwise the same losses, weights and optimizer slots as
// the GradientTape path (Trainer.train_step), because it calls the same kernels
// with the same arguments and adds the same numbers in the same order:
//   forward   nodes in execution order (the order the tape records them);
//   loss      per output head: nn::loss on its value, from the logits below a final
//             softmax/sigmoid when nn::loss_fuses says so (the tape's fusion); the
//             total in float32: ((head0 * w0) + (head1 * w1)) + ... then + each
//             penalty in model.losses order (Trainer.compute_loss): a weight's, or an
//             activity penalty of a value divided by the step's rows;
//   backward  nodes in reverse execution order. Where a value or a parameter gets
//             several contributions, the first one (from the latest node) is
//             written, later ones are added: the tape sums the contributions to
//             one tensor in the reverse order of the ops that made them
//             (pydl/tape.py). A weight penalty's gradient (its op runs after the
//             forward) is the first contribution to its weight, and is added right
//             after the weight's first data contribution (a + b = b + a). An
//             activity penalty's gradient, scaled by 1 / rows, joins its value's
//             where the tape recorded its op: after the nodes that ran before it;
//   update    nn::apply_update over all trainable tensors, in trainable order,
//             after the gradient hook (the data-parallel reduction) if one is set.
// Gradients of one step live in one contiguous buffer, a view per tensor.
//
// Weights and optimizer slots are the caller's arrays, updated in place; the plan
// owns its workspaces, allocated once for `max_batch` rows: a step allocates
// nothing. float32 only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "nn/loss.h"
#include "nn/penalty.h"
#include "nn/update.h"
#include "plan/node.h"

namespace pydl::plan {

// The loss of one model output.
struct LossHead {
    int value = 0;
    nn::LossKind kind = nn::LossKind::mse;
    bool from_logits = false;
    double delta = 1.0;
    double weight = 1.0;      // loss weight (x * 1.0 == x: no pass when it is 1)
};

// One trainable tensor, in model.trainable_weights order.
struct Tensor {
    float* weight = nullptr;
    std::ptrdiff_t size = 0;
    float* slot[3] = {nullptr, nullptr, nullptr};  // as nn::OptimizerTensor
    double weight_decay = 0.0;
    bool penalized = false;   // a kernel/bias regularizer L1/L2: nn::penalty_*
    nn::WeightPenalty penalty;
    float* ema = nullptr;     // its moving average, when the rule keeps one
};

// A penalty of a value (an activity regularizer: Layer._add_activity_penalty), added
// to the loss divided by the step's rows. The tape records its op after the first
// `after` nodes ran (the layer's own node included).
struct ActivityPenalty {
    int value = 0;
    int after = 0;
    int rank = 0;  // the order the tape recorded the activity penalties in (0, 1, ...)
    nn::WeightPenalty penalty;
};

// One penalty term of the loss, in model.losses order: trainable tensor `tensor`'s
// weight penalty, or (tensor < 0) `activity`.
struct PenaltyTerm {
    int tensor = -1;
    ActivityPenalty activity;
};

struct NodeSpec {
    std::shared_ptr<Node> node;
    std::vector<int> inputs;      // value ids
    // Per param of node->params(): its index among the trainable tensors, or -1
    // for a frozen tensor (no gradient wanted).
    std::vector<int> param_index;
};

// Model input v of the data: float32 samples of this shape.
struct InputSpec {
    Shape shape;
};

// What one call runs on. Rows of each data array are samples; step k takes the
// samples indices[first + k * batch_size ...] (the last step may be shorter).
struct RunArgs {
    std::vector<const float*> inputs;           // per model input: (samples, width)
    // Per head: dense targets (samples, width) float32, or sparse labels.
    std::vector<const float*> targets;
    std::vector<const std::int64_t*> labels_i64;
    std::vector<const std::int32_t*> labels_i32;
    std::vector<const float*> sample_weights;   // per head: (samples) or nullptr
    const std::int64_t* indices = nullptr;      // checked in range by the caller
    std::ptrdiff_t num_indices = 0;
    std::ptrdiff_t first = 0;
    std::ptrdiff_t batch_size = 0;              // <= max_batch
    std::ptrdiff_t steps = 0;                   // every step has >= 1 row (checked)
    const double* learning_rates = nullptr;     // one per step
    long long iterations = 0;                   // optimizer.iterations before the first step
    // (steps, 1 + heads): the total loss, then each head's unweighted loss, float32.
    float* losses = nullptr;
    // Per head: (rows of all the steps, width) outputs, or nullptr (then a fused
    // head's final softmax / sigmoid is not computed at all).
    std::vector<float*> predictions;
    // Per drawing node (Plan::drawing_nodes order): (rows of all steps, draws_per_row).
    std::vector<const float*> draws;
    // Called after backward, before the update, with the contiguous gradients
    // and the step's rows (the data-parallel reduction); may be empty.
    std::function<void(float* grads, std::ptrdiff_t size, std::ptrdiff_t rows)> gradient_hook;
};

class GraphPlan {
public:
    // Throws std::invalid_argument when the graph does not fit together.
    // `penalty_order`: the penalties in the order the tape adds them to the loss
    // (model.losses): every penalized tensor's once, and the activity penalties.
    GraphPlan(std::vector<InputSpec> inputs, std::vector<NodeSpec> nodes,
              std::vector<LossHead> heads, std::vector<Tensor> tensors,
              std::vector<PenaltyTerm> penalty_order, nn::UpdateRule rule,
              std::ptrdiff_t max_batch);
    GraphPlan(const GraphPlan&) = delete;
    GraphPlan& operator=(const GraphPlan&) = delete;

    // Runs `args.steps` training steps. Not reentrant (see mutex()).
    void run(const RunArgs& args);
    // The update alone, from the gradients as they are in gradients(): a data-parallel
    // step in which this process has no rows (the reduction wrote the other
    // processes' gradients there). The same update run() applies after its hook.
    void apply_update(double learning_rate, long long step) { update(learning_rate, step); }

    std::ptrdiff_t max_batch() const { return max_batch_; }
    std::size_t num_inputs() const { return inputs_.size(); }
    std::size_t num_heads() const { return heads_.size(); }
    std::size_t num_values() const { return values_.size(); }
    std::ptrdiff_t value_width(int v) const { return values_[v].width; }
    const Shape& value_shape(int v) const { return values_[v].shape; }
    std::ptrdiff_t head_width(std::size_t h) const { return values_[heads_[h].value].width; }
    bool head_fused(std::size_t h) const { return head_state_[h].fuser != nullptr; }
    // Indices of the nodes that take random draws, in node order.
    const std::vector<std::size_t>& drawing_nodes() const { return drawing_; }
    // Per model input: the tokens its values must truncate to lie below (the smallest
    // Node::token_count of the nodes reading it), or 0 when no node reads tokens.
    std::int64_t input_token_limit(std::size_t v) const { return token_limit_[v]; }
    std::ptrdiff_t node_draws_per_row(std::size_t k) const { return nodes_[k].node->draws_per_row(); }
    std::ptrdiff_t gradient_size() const { return static_cast<std::ptrdiff_t>(grads_.size()); }
    float* gradients() { return grads_.data(); }
    std::mutex& mutex() { return mutex_; }

private:
    struct Value {
        Shape shape;
        std::ptrdiff_t width = 0;
        std::vector<float> data, grad;  // own storage (empty when viewing another value)
        float* y = nullptr;             // rows x width
        float* dy = nullptr;            // or nullptr: no gradient flows here
        int producer = -1;              // node index, or -1 for a model input
        int consumers = 0;
        bool reaches_loss = false;      // a loss depends on it
        bool needs_grad = false;        // a trainable tensor is upstream
    };
    // Where a node's backward writes one input gradient or one parameter gradient.
    struct Target {
        float* direct = nullptr;    // write here (first contribution) ...
        std::vector<float> scratch; // ... or here, then add into `into`
        float* into = nullptr;
        std::ptrdiff_t size = 0;    // per row for values, total for params
        bool per_row = false;
    };
    struct NodeState {
        bool run_backward = false;
        std::vector<Target> input_targets;  // per input (size 0 = not wanted)
        std::vector<Target> param_targets;  // per param
        std::vector<int> penalty_after;     // tensors whose penalty gradient follows this node
        std::vector<const float*> in_ptrs;
        std::vector<float*> din_ptrs, dparam_ptrs;
    };
    // An activity penalty's gradient: where its op sits in the backward order, and
    // whether it is its value's first contribution (written) or a later one (added).
    struct ActivityState {
        const ActivityPenalty* term = nullptr;
        bool first = false;
    };
    struct HeadState {
        Node* fuser = nullptr;       // the producing node, when the loss is fused
        float weight32 = 1.0f;       // float32(weight)
    };

    void build_values();
    void plan_backward();
    void gather(const RunArgs& a, std::ptrdiff_t start, std::ptrdiff_t rows);
    float forward_and_loss(const RunArgs& a, const StepContext& ctx, std::ptrdiff_t start,
                           bool want_predictions, float* head_losses);
    void backward(const StepContext& ctx);
    void activity_gradients(const StepContext& ctx, std::size_t after);
    void update(double learning_rate, long long step);

    std::vector<InputSpec> inputs_;
    std::vector<NodeSpec> nodes_;
    std::vector<LossHead> heads_;
    std::vector<Tensor> tensors_;
    std::vector<PenaltyTerm> penalty_order_;
    nn::UpdateRule rule_;
    std::ptrdiff_t max_batch_;

    std::vector<Value> values_;
    std::vector<NodeState> node_state_;
    std::vector<HeadState> head_state_;
    std::vector<std::size_t> drawing_;
    std::vector<std::int64_t> token_limit_;  // per model input
    std::vector<int> penalty_first_;  // tensors penalized with no data contribution
    // Per count of nodes run (0..nodes): the activity penalties recorded right then.
    std::vector<std::vector<ActivityState>> activity_at_;

    // Per head: gathered targets / labels / sample weights of the step.
    std::vector<std::vector<float>> target_batch_, weight_batch_;
    std::vector<std::vector<std::int64_t>> labels64_batch_;
    std::vector<std::vector<std::int32_t>> labels32_batch_;

    std::vector<float> grads_;                         // all tensors, contiguous
    std::vector<std::ptrdiff_t> grad_offset_;          // per tensor: its view's start
    std::vector<nn::OptimizerTensor<float>> update_tensors_;
    std::vector<double> decays_;
    std::vector<float> penalty_scratch_;
    std::mutex mutex_;
};

}  // namespace pydl::plan
