#include "plan/nodes/pooling_nodes.h"

#include <stdexcept>

#include "nn/pooling.h"
#include "nn/tokens.h"

namespace pydl::plan {

std::string GlobalPoolNode::describe() const {
    return std::string(average_ ? "GlobalAveragePooling1D" : "GlobalMaxPooling1D") +
           (channels_first_ ? "(channels_first" : "(channels_last") +
           (masked_ ? ", masked)" : ")");
}

Shape GlobalPoolNode::output_shape(const std::vector<Shape>& inputs) {
    const std::size_t wanted = masked_ ? 2 : 1;
    if (inputs.size() != wanted || inputs[0].size() != 2) {
        throw std::invalid_argument(describe() + " expects samples of shape (steps, features)" +
                                    (masked_ ? " and their tokens" : ""));
    }
    const Shape& s = inputs[0];
    if (channels_first_) {
        outer_ = s[0];
        steps_ = s[1];
        inner_ = 1;
    } else {
        outer_ = 1;
        steps_ = s[0];
        inner_ = s[1];
    }
    if (masked_ && (channels_first_ || size_of(inputs[1]) != steps_)) {
        throw std::invalid_argument(describe() + " expects one token per step (" +
                                    std::to_string(steps_) + "), channels_last");
    }
    const std::ptrdiff_t features = channels_first_ ? s[0] : s[1];
    if (!keepdims_) return {features};
    return channels_first_ ? Shape{features, 1} : Shape{1, features};
}

void GlobalPoolNode::reserve(std::ptrdiff_t max_rows) {
    if (masked_) mask_.resize(static_cast<std::size_t>(max_rows * steps_));
    if (!average_) argmax_.resize(static_cast<std::size_t>(max_rows * outer_ * inner_));
}

void GlobalPoolNode::forward(const StepContext& ctx, const float* const* inputs, float* out) {
    const std::ptrdiff_t outer = ctx.rows * outer_;
    if (!average_) {
        nn::global_max_pool_forward<float>(inputs[0], outer, steps_, inner_, out, argmax_.data());
        return;
    }
    const std::uint8_t* mask = nullptr;
    if (masked_) {
        nn::token_mask(inputs[1], ctx.rows * steps_, mask_.data());
        mask = mask_.data();
    }
    nn::global_average_pool_forward<float>(inputs[0], mask, outer, steps_, inner_, 1, out);
}

void GlobalPoolNode::backward(const StepContext& ctx, const float* const*, const float*,
                              float* dout, float* const* dinputs, float* const*) {
    if (!dinputs[0]) return;
    const std::ptrdiff_t outer = ctx.rows * outer_;
    if (average_) {
        nn::global_average_pool_backward<float>(dout, masked_ ? mask_.data() : nullptr, outer,
                                                steps_, inner_, 1, dinputs[0]);
    } else {
        nn::global_max_pool_backward<float>(dout, argmax_.data(), outer, steps_, inner_,
                                            dinputs[0]);
    }
}

}  // namespace pydl::plan
