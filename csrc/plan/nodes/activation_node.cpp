#include "plan/nodes/activation_node.h"

#include <cstring>
#include <stdexcept>

namespace pydl::plan {

Shape ActivationNode::output_shape(const std::vector<Shape>& inputs) {
    if (inputs.size() != 1) throw std::invalid_argument("Activation expects one input");
    width_ = size_of(inputs[0]);
    cols_ = inputs[0].empty() ? 1 : inputs[0].back();
    return inputs[0];
}

void ActivationNode::forward(const StepContext& ctx, const float* const* inputs, float* out) {
    if (fused_ && !want_output_) return;  // the fused loss reads the input (the logits)
    const std::ptrdiff_t rows = ctx.rows * (width_ / cols_);
    nn::activation_forward<float>(act_, alpha_, inputs[0], out, rows, cols_);
}

void ActivationNode::backward(const StepContext& ctx, const float* const* inputs,
                              const float* out, float* dout, float* const* dinputs,
                              float* const*) {
    if (!dinputs[0]) return;
    if (fused_) {  // the loss gradient is already at the logits, this node's input
        std::memcpy(dinputs[0], dout, sizeof(float) * static_cast<std::size_t>(ctx.rows * width_));
        return;
    }
    const std::ptrdiff_t rows = ctx.rows * (width_ / cols_);
    nn::activation_backward<float>(act_, alpha_, inputs[0], out, dout, dinputs[0], rows, cols_);
}

}  // namespace pydl::plan
