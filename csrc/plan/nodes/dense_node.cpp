#include "plan/nodes/dense_node.h"

#include <stdexcept>

#include "nn/dense.h"
#include "nn/rules.h"

namespace pydl::plan {

DenseNode::DenseNode(float* kernel, float* bias, std::ptrdiff_t in, std::ptrdiff_t out,
                     nn::Activation act, float alpha, gemm::Operands operands)
    : kernel_(kernel), bias_(bias), in_(in), out_(out), act_(act), alpha_(alpha),
      operands_(operands), keep_z_(nn::dense_keeps_preactivation(act)) {}

std::string DenseNode::describe() const {
    return "Dense(" + std::to_string(in_) + " -> " + std::to_string(out_) +
           (operands_ == gemm::Operands::bf16 ? ", bfloat16 operands)" : ")");
}

Shape DenseNode::output_shape(const std::vector<Shape>& inputs) {
    if (inputs.size() != 1 || inputs[0].empty() || inputs[0].back() != in_) {
        throw std::invalid_argument(describe() + " expects one input whose last axis has " +
                                    std::to_string(in_) + " features");
    }
    Shape out = inputs[0];
    out.back() = out_;
    rows_per_sample_ = size_of(inputs[0]) / in_;
    return out;
}

std::vector<Param> DenseNode::params() {
    std::vector<Param> p{{kernel_, in_ * out_}};
    if (bias_) p.push_back({bias_, out_});
    return p;
}

void DenseNode::reserve(std::ptrdiff_t max_rows) {
    if (keep_z_) z_.resize(static_cast<std::size_t>(max_rows * rows_per_sample_ * out_));
}

void DenseNode::forward(const StepContext& ctx, const float* const* inputs, float* out) {
    const std::ptrdiff_t rows = ctx.rows * rows_per_sample_;
    if (fused_ && !want_output_) {  // the logits alone, by the same GEMM as below
        nn::dense_forward<float>(inputs[0], kernel_, bias_, rows, in_, out_, nn::Activation::linear,
                                 0.0f, z_.data(), nullptr, operands_);
        return;
    }
    nn::dense_forward<float>(inputs[0], kernel_, bias_, rows, in_, out_, act_, alpha_, out,
                             keep_z_ ? z_.data() : nullptr, operands_);
}

void DenseNode::backward(const StepContext& ctx, const float* const* inputs, const float* out,
                         float* dout, float* const* dinputs, float* const* dparams) {
    const std::ptrdiff_t rows = ctx.rows * rows_per_sample_;
    // Fused loss: the gradient is at the logits, so only the linear part remains.
    const nn::Activation act = fused_ ? nn::Activation::linear : act_;
    nn::dense_backward<float>(inputs[0], kernel_, keep_z_ ? z_.data() : nullptr, out, dout, rows,
                              in_, out_, act, alpha_, dout, dinputs[0], dparams[0],
                              bias_ ? dparams[1] : nullptr, operands_);
}

}  // namespace pydl::plan
