// Rescaling and Normalization: a per-channel affine map (nn/channel_affine.h) over
// the sample axes [first_axis, first_axis + num_axes) taken as one channel axis,
// with non-trainable constants. Normalization's divisor may be derived from its
// variance array at each step (std = maximum(sqrt(variance), 1e-7)), so that
// statistics `adapt` writes in place later are read as the tape reads them.
#pragma once

#include <vector>

#include "nn/channel_affine.h"
#include "plan/node.h"

namespace pydl::plan {

class AffineNode final : public Node {
public:
    // a, b: `channels` values each (a: the variance when std_from_variance).
    AffineNode(const float* a, const float* b, std::ptrdiff_t channels, std::ptrdiff_t first_axis,
               std::ptrdiff_t num_axes, nn::AffineOrder order, bool std_from_variance)
        : a_(a), b_(b), channels_(channels), first_axis_(first_axis), num_axes_(num_axes),
          order_(order), std_from_variance_(std_from_variance) {}

    std::string describe() const override;
    Shape output_shape(const std::vector<Shape>& inputs) override;
    void reserve(std::ptrdiff_t max_rows) override;
    void forward(const StepContext& ctx, const float* const* inputs, float* out) override;
    void backward(const StepContext& ctx, const float* const* inputs, const float* out,
                  float* dout, float* const* dinputs, float* const* dparams) override;

private:
    const float* a_;
    const float* b_;
    std::ptrdiff_t channels_, first_axis_, num_axes_;
    nn::AffineOrder order_;
    bool std_from_variance_;
    std::ptrdiff_t outer_ = 1, inner_ = 1;
    std::vector<float> std_;
};

}  // namespace pydl::plan
