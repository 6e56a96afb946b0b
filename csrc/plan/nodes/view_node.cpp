#include "plan/nodes/view_node.h"

#include <cstring>
#include <stdexcept>

namespace pydl::plan {

Shape ViewNode::output_shape(const std::vector<Shape>& inputs) {
    if (inputs.size() != 1) throw std::invalid_argument("Reshape expects one input");
    width_ = size_of(inputs[0]);
    if (size_of(target_) != width_) {
        throw std::invalid_argument("Reshape to " + std::to_string(size_of(target_)) +
                                    " values per sample, received " + std::to_string(width_));
    }
    return target_;
}

void ViewNode::forward(const StepContext& ctx, const float* const* inputs, float* out) {
    std::memcpy(out, inputs[0], sizeof(float) * static_cast<std::size_t>(ctx.rows * width_));
}

void ViewNode::backward(const StepContext& ctx, const float* const*, const float*, float* dout,
                        float* const* dinputs, float* const*) {
    if (!dinputs[0]) return;
    std::memcpy(dinputs[0], dout, sizeof(float) * static_cast<std::size_t>(ctx.rows * width_));
}

}  // namespace pydl::plan
