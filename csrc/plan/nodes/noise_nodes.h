// GaussianNoise, GaussianDropout and AlphaDropout in training: nn/noise.h with the
// layer generator's draws for the whole call (draws_per_row = the sample width):
// the noise itself (GaussianNoise: normal(0, stddev), GaussianDropout:
// normal(1, stddev), each drawn in float64 and rounded to float32 as the tape's
// calls draw it) or float32 uniforms (AlphaDropout).
#pragma once

#include "plan/node.h"

namespace pydl::plan {

enum class NoiseKind : int { gaussian_noise, gaussian_dropout, alpha_dropout };

class NoiseNode final : public Node {
public:
    // AlphaDropout: threshold = float32(rate), and a, a * alpha_p, b rounded to float32.
    NoiseNode(NoiseKind kind, float threshold, float a, float a_alpha_p, float b)
        : kind_(kind), threshold_(threshold), a_(a), a_alpha_p_(a_alpha_p), b_(b) {}

    std::string describe() const override;
    Shape output_shape(const std::vector<Shape>& inputs) override;
    void forward(const StepContext& ctx, const float* const* inputs, float* out) override;
    void backward(const StepContext& ctx, const float* const* inputs, const float* out,
                  float* dout, float* const* dinputs, float* const* dparams) override;
    std::ptrdiff_t draws_per_row() const override { return width_; }

private:
    NoiseKind kind_;
    float threshold_, a_, a_alpha_p_, b_;
    std::ptrdiff_t width_ = 0;
};

}  // namespace pydl::plan
