// A node of the fused training plan: the native form of one built-in layer call.
//
// The plan (plan/graph_plan.h) owns the values flowing between nodes: each value
// is `rows` samples of a fixed per-sample shape, row-major, with its gradient of
// the same size. A node reads its input values and writes its output value in
// `forward`; in `backward` it reads the gradient of its output and WRITES (never
// accumulates) the gradient of each input and of each of its parameters into the
// buffers the plan hands it. The plan turns writes into accumulation where a value
// or a parameter gets several contributions (a value feeding several layers, a
// layer called twice), adding them in the tape's order (graph_plan.h).
//
// Adding a layer to the plan = one Node subclass here (its kernels live in
// csrc/nn), one spec class in bindings/bind_plan_nodes.cpp, and the layer's
// `_plan_node` in Python (docs/adding_a_layer.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "nn/activation.h"

namespace pydl::plan {

using Shape = std::vector<std::ptrdiff_t>;  // per-sample shape (no batch dimension)

inline std::ptrdiff_t size_of(const Shape& s) {
    std::ptrdiff_t n = 1;
    for (std::ptrdiff_t d : s) n *= d;
    return n;
}

// A trainable or frozen tensor a node reads (kernel, bias, ...).
struct Param {
    float* data = nullptr;
    std::ptrdiff_t size = 0;
};

// What a node knows about the current step.
struct StepContext {
    std::ptrdiff_t rows = 0;  // samples in this step's batch
    // First row of this step among the rows of the whole call: random draws given
    // for the call (Node::draws_per_row) are indexed by it.
    std::ptrdiff_t call_row = 0;
    bool training = true;
};

class Node {
public:
    virtual ~Node() = default;

    // A short description for error messages ("Dense(784 -> 512, relu)").
    virtual std::string describe() const = 0;

    // Output shape for these input shapes; throws std::invalid_argument with a
    // message naming what does not fit. Called once, when the plan is built.
    virtual Shape output_shape(const std::vector<Shape>& inputs) = 0;

    // The tensors this node reads, in the layer's weights order.
    virtual std::vector<Param> params() { return {}; }

    // Buffers the node keeps for backward (pre-activations, masks, statistics),
    // sized for `max_rows` samples. Called once, after output_shape.
    virtual void reserve(std::ptrdiff_t max_rows) {}

    // out = f(inputs). inputs[i] holds ctx.rows samples of input i.
    virtual void forward(const StepContext& ctx, const float* const* inputs, float* out) = 0;

    // Given dout (the gradient of the output, which the node may overwrite as
    // scratch), writes dinputs[i] (nullptr: not wanted) and dparams[k] (nullptr:
    // a frozen tensor, not wanted). `out` is the forward output.
    virtual void backward(const StepContext& ctx, const float* const* inputs, const float* out,
                          float* dout, float* const* dinputs, float* const* dparams) = 0;

    // -- loss fusion (nn/rules.h): a node whose last operation is a softmax or a
    // sigmoid may hand a fused cross-entropy its logits instead.
    // The activation this node applies last (linear: none to fuse).
    virtual nn::Activation final_activation() const { return nn::Activation::linear; }
    // From now on: forward keeps the logits (and writes `out` only when
    // `want_output`), backward receives the gradient at the logits.
    virtual void fuse_final_activation() {}
    virtual const float* logits(const float* const* inputs) const { return nullptr; }
    // Per step, whether the fused node must still compute its output (predictions).
    virtual void set_want_output(bool want) {}

    // -- random draws: float32 values per sample the caller supplies for a whole
    // call (the layer's own generator draws them, so the tape and the plan see the
    // same numbers); rows in the order the steps take them.
    virtual std::ptrdiff_t draws_per_row() const { return 0; }
    void set_draws(const float* draws) { draws_ = draws; }

    // A node whose output is its single input reinterpreted (Flatten, Reshape,
    // Identity): the plan may let both share memory.
    virtual bool is_view() const { return false; }

    // > 0 when input i holds tokens (float values truncated to int64) that must lie
    // in [0, token_count(i)): such an input must be a model input, and Plan.run checks
    // the rows a call reads before any step (the node indexes with them).
    virtual std::int64_t token_count(std::size_t input) const { return 0; }

protected:
    const float* draws_ = nullptr;
};

}  // namespace pydl::plan
