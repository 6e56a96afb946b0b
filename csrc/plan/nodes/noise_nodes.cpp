#include "plan/nodes/noise_nodes.h"

#include <cstring>
#include <stdexcept>

#include "nn/noise.h"

namespace pydl::plan {

std::string NoiseNode::describe() const {
    static const char* names[] = {"GaussianNoise", "GaussianDropout", "AlphaDropout"};
    return names[static_cast<int>(kind_)];
}

Shape NoiseNode::output_shape(const std::vector<Shape>& inputs) {
    if (inputs.size() != 1) throw std::invalid_argument(describe() + " expects one input");
    width_ = size_of(inputs[0]);
    return inputs[0];
}

void NoiseNode::forward(const StepContext& ctx, const float* const* inputs, float* out) {
    const float* draws = draws_ + ctx.call_row * width_;
    const std::ptrdiff_t n = ctx.rows * width_;
    switch (kind_) {
        case NoiseKind::gaussian_noise:
            nn::gaussian_noise<float>(inputs[0], draws, n, out);
            break;
        case NoiseKind::gaussian_dropout:
            nn::noise_multiply<float>(inputs[0], draws, n, out);
            break;
        case NoiseKind::alpha_dropout:
            nn::alpha_dropout_forward<float>(inputs[0], draws, threshold_, a_, a_alpha_p_, b_, n,
                                             out);
            break;
    }
}

void NoiseNode::backward(const StepContext& ctx, const float* const*, const float*, float* dout,
                         float* const* dinputs, float* const*) {
    if (!dinputs[0]) return;
    const float* draws = draws_ + ctx.call_row * width_;
    const std::ptrdiff_t n = ctx.rows * width_;
    switch (kind_) {
        case NoiseKind::gaussian_noise:
            std::memcpy(dinputs[0], dout, sizeof(float) * static_cast<std::size_t>(n));
            break;
        case NoiseKind::gaussian_dropout:
            nn::noise_multiply<float>(dout, draws, n, dinputs[0]);
            break;
        case NoiseKind::alpha_dropout:
            nn::alpha_dropout_backward<float>(dout, draws, threshold_, a_, n, dinputs[0]);
            break;
    }
}

}  // namespace pydl::plan
