// Flatten, Reshape, Identity: the same values under another per-sample shape.
// The plan lets the output share the input's memory when nothing else reads the
// input; otherwise forward and backward copy.
#pragma once

#include "plan/node.h"

namespace pydl::plan {

class ViewNode final : public Node {
public:
    // target: the output's per-sample shape (its size must equal the input's).
    explicit ViewNode(Shape target) : target_(std::move(target)) {}

    std::string describe() const override { return "Reshape"; }
    Shape output_shape(const std::vector<Shape>& inputs) override;
    void forward(const StepContext& ctx, const float* const* inputs, float* out) override;
    void backward(const StepContext& ctx, const float* const* inputs, const float* out,
                  float* dout, float* const* dinputs, float* const* dparams) override;
    bool is_view() const override { return true; }

private:
    Shape target_;
    std::ptrdiff_t width_ = 0;
};

}  // namespace pydl::plan
