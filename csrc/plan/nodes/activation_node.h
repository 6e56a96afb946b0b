// Activation: y = act(x) over the last axis (nn::activation_forward/backward),
// with z = x and y handed to the backward as the tape does.
#pragma once

#include "plan/node.h"

namespace pydl::plan {

class ActivationNode final : public Node {
public:
    ActivationNode(nn::Activation act, float alpha) : act_(act), alpha_(alpha) {}

    std::string describe() const override { return "Activation"; }
    Shape output_shape(const std::vector<Shape>& inputs) override;
    void forward(const StepContext& ctx, const float* const* inputs, float* out) override;
    void backward(const StepContext& ctx, const float* const* inputs, const float* out,
                  float* dout, float* const* dinputs, float* const* dparams) override;

    nn::Activation final_activation() const override { return act_; }
    void fuse_final_activation() override { fused_ = true; }
    const float* logits(const float* const* inputs) const override { return inputs[0]; }
    void set_want_output(bool want) override { want_output_ = want; }

private:
    nn::Activation act_;
    float alpha_;
    bool fused_ = false;
    bool want_output_ = true;
    std::ptrdiff_t width_ = 0, cols_ = 1;
};

}  // namespace pydl::plan
