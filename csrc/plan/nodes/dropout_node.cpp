#include "plan/nodes/dropout_node.h"

#include <stdexcept>

#include "nn/dropout.h"

namespace pydl::plan {

DropoutNode::DropoutNode(double rate)
    // As pydl.ops.dropout: u >= rate compares in float32; the scale is float32.
    : threshold_(static_cast<float>(rate)), scale_(static_cast<float>(1.0 / (1.0 - rate))) {}

Shape DropoutNode::output_shape(const std::vector<Shape>& inputs) {
    if (inputs.size() != 1) throw std::invalid_argument("Dropout expects one input");
    width_ = size_of(inputs[0]);
    return inputs[0];
}

void DropoutNode::forward(const StepContext& ctx, const float* const* inputs, float* out) {
    nn::dropout_apply<float>(inputs[0], draws_ + ctx.call_row * width_, threshold_, scale_, out,
                             ctx.rows * width_);
}

void DropoutNode::backward(const StepContext& ctx, const float* const*, const float*,
                           float* dout, float* const* dinputs, float* const*) {
    if (!dinputs[0]) return;
    nn::dropout_apply<float>(dout, draws_ + ctx.call_row * width_, threshold_, scale_, dinputs[0],
                             ctx.rows * width_);
}

}  // namespace pydl::plan
