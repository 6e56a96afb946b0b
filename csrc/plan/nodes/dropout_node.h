// Dropout: out = x * mask (nn/dropout.h) with the layer generator's uniforms,
// drawn by the caller for the whole call (draws_per_row = the sample width).
#pragma once

#include "plan/node.h"

namespace pydl::plan {

class DropoutNode final : public Node {
public:
    explicit DropoutNode(double rate);

    std::string describe() const override { return "Dropout"; }
    Shape output_shape(const std::vector<Shape>& inputs) override;
    void forward(const StepContext& ctx, const float* const* inputs, float* out) override;
    void backward(const StepContext& ctx, const float* const* inputs, const float* out,
                  float* dout, float* const* dinputs, float* const* dparams) override;
    std::ptrdiff_t draws_per_row() const override { return width_; }

private:
    float threshold_, scale_;
    std::ptrdiff_t width_ = 0;
};

}  // namespace pydl::plan
