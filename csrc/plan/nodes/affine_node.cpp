#include "plan/nodes/affine_node.h"

#include <stdexcept>

namespace pydl::plan {

std::string AffineNode::describe() const {
    return std::string(order_ == nn::AffineOrder::scale_shift ? "Affine(x * a + b, "
                                                              : "Affine((x - b) / a, ") +
           std::to_string(channels_) + " channels)";
}

Shape AffineNode::output_shape(const std::vector<Shape>& inputs) {
    if (inputs.size() != 1 || first_axis_ < 0 || num_axes_ < 0 ||
        first_axis_ + num_axes_ > static_cast<std::ptrdiff_t>(inputs[0].size())) {
        throw std::invalid_argument(describe() + " expects one input with sample axes " +
                                    std::to_string(first_axis_) + ".." +
                                    std::to_string(first_axis_ + num_axes_));
    }
    const Shape& s = inputs[0];
    std::ptrdiff_t channels = 1;
    outer_ = inner_ = 1;
    for (std::ptrdiff_t i = 0; i < static_cast<std::ptrdiff_t>(s.size()); ++i) {
        if (i < first_axis_) outer_ *= s[i];
        else if (i < first_axis_ + num_axes_) channels *= s[i];
        else inner_ *= s[i];
    }
    if (channels != channels_) {
        throw std::invalid_argument(describe() + ": the input's channel axes hold " +
                                    std::to_string(channels) + " values");
    }
    return s;
}

void AffineNode::reserve(std::ptrdiff_t) {
    if (std_from_variance_) std_.resize(static_cast<std::size_t>(channels_));
}

void AffineNode::forward(const StepContext& ctx, const float* const* inputs, float* out) {
    const float* a = a_;
    if (std_from_variance_) {
        nn::normalization_std<float>(a_, channels_, std_.data());
        a = std_.data();
    }
    nn::channel_affine_forward<float>(inputs[0], a, b_, ctx.rows * outer_, channels_, inner_,
                                      order_, out);
}

void AffineNode::backward(const StepContext& ctx, const float* const*, const float*, float* dout,
                          float* const* dinputs, float* const*) {
    if (!dinputs[0]) return;
    nn::channel_affine_backward<float>(dout, std_from_variance_ ? std_.data() : a_,
                                       ctx.rows * outer_, channels_, inner_, order_, dinputs[0]);
}

}  // namespace pydl::plan
