// Dense: y = act(x . kernel + bias) over the last axis (nn/dense.h), as the tape's
// pydl.ops.dense records it: z kept exactly when nn::dense_keeps_preactivation says,
// and its matrix products read bfloat16-rounded operands when the layer's dtype
// policy asks for them (gemm::Operands::bf16), as the tape's op does.
#pragma once

#include <vector>

#include "gemm/bf16.h"
#include "plan/node.h"

namespace pydl::plan {

class DenseNode final : public Node {
public:
    // kernel (in, out), bias (out) or nullptr; both updated in place by the plan.
    DenseNode(float* kernel, float* bias, std::ptrdiff_t in, std::ptrdiff_t out,
              nn::Activation act, float alpha, gemm::Operands operands = gemm::Operands::as_is);

    std::string describe() const override;
    Shape output_shape(const std::vector<Shape>& inputs) override;
    std::vector<Param> params() override;
    void reserve(std::ptrdiff_t max_rows) override;
    void forward(const StepContext& ctx, const float* const* inputs, float* out) override;
    void backward(const StepContext& ctx, const float* const* inputs, const float* out,
                  float* dout, float* const* dinputs, float* const* dparams) override;

    nn::Activation final_activation() const override { return act_; }
    void fuse_final_activation() override { fused_ = true; }
    const float* logits(const float* const*) const override { return z_.data(); }
    void set_want_output(bool want) override { want_output_ = want; }

private:
    float* kernel_;
    float* bias_;
    std::ptrdiff_t in_, out_;
    nn::Activation act_;
    float alpha_;
    gemm::Operands operands_;
    bool keep_z_;
    bool fused_ = false;
    bool want_output_ = true;
    std::ptrdiff_t rows_per_sample_ = 1;  // GEMM rows per sample (leading sample axes)
    std::vector<float> z_;
};

}  // namespace pydl::plan
