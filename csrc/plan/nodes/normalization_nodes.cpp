#include "plan/nodes/normalization_nodes.h"

#include <stdexcept>

#include "nn/batchnorm.h"
#include "nn/layernorm.h"
#include "nn/unit_norm.h"

namespace pydl::plan {

// -- BatchNormalization -------------------------------------------------------------------
BatchNormNode::BatchNormNode(float* gamma, float* beta, float* moving_mean,
                             float* moving_variance, std::ptrdiff_t channels, std::ptrdiff_t axis,
                             double momentum, double epsilon, bool training)
    : gamma_(gamma), beta_(beta), moving_mean_(moving_mean), moving_variance_(moving_variance),
      channels_(channels), axis_(axis), momentum_(momentum), epsilon_(epsilon),
      training_(training) {}

std::string BatchNormNode::describe() const {
    return "BatchNormalization(" + std::to_string(channels_) +
           (training_ ? " channels, batch statistics)" : " channels, moving statistics)");
}

Shape BatchNormNode::output_shape(const std::vector<Shape>& inputs) {
    if (inputs.size() != 1 || axis_ >= static_cast<std::ptrdiff_t>(inputs[0].size()) ||
        inputs[0][axis_] != channels_) {
        throw std::invalid_argument(describe() + " expects one input whose sample axis " +
                                    std::to_string(axis_) + " has " + std::to_string(channels_) +
                                    " channels");
    }
    const Shape& s = inputs[0];
    outer_ = inner_ = 1;
    for (std::ptrdiff_t i = 0; i < axis_; ++i) outer_ *= s[i];
    for (std::size_t i = axis_ + 1; i < s.size(); ++i) inner_ *= s[i];
    return s;
}

std::vector<Param> BatchNormNode::params() {
    std::vector<Param> p;
    if (gamma_) p.push_back({gamma_, channels_});
    if (beta_) p.push_back({beta_, channels_});
    return p;
}

void BatchNormNode::reserve(std::ptrdiff_t) {
    mean_.resize(channels_);
    variance_.resize(channels_);
    inv_std_.resize(channels_);
}

void BatchNormNode::forward(const StepContext& ctx, const float* const* inputs, float* out) {
    const std::ptrdiff_t outer = ctx.rows * outer_;
    if (training_) {
        nn::batchnorm_forward_training<float>(inputs[0], gamma_, beta_, outer, channels_, inner_,
                                              epsilon_, out, mean_.data(), variance_.data(),
                                              inv_std_.data());
        nn::batchnorm_update_moving<float>(moving_mean_, mean_.data(), channels_, momentum_);
        nn::batchnorm_update_moving<float>(moving_variance_, variance_.data(), channels_,
                                           momentum_);
    } else {
        nn::batchnorm_forward_inference<float>(inputs[0], gamma_, beta_, moving_mean_,
                                               moving_variance_, outer, channels_, inner_,
                                               epsilon_, out, inv_std_.data());
    }
}

void BatchNormNode::backward(const StepContext& ctx, const float* const* inputs, const float*,
                             float* dout, float* const* dinputs, float* const* dparams) {
    float* dgamma = gamma_ ? dparams[0] : nullptr;
    float* dbeta = beta_ ? dparams[gamma_ ? 1 : 0] : nullptr;
    if (!dinputs[0] && !dgamma && !dbeta) return;
    nn::batchnorm_backward<float>(inputs[0], gamma_, training_ ? mean_.data() : moving_mean_,
                                  inv_std_.data(), dout, ctx.rows * outer_, channels_, inner_,
                                  training_, dinputs[0], dgamma, dbeta);
}

// -- LayerNormalization -------------------------------------------------------------------
LayerNormNode::LayerNormNode(float* gamma, float* beta, std::ptrdiff_t param_size,
                             std::ptrdiff_t axes, double epsilon, bool rms_scaling)
    : gamma_(gamma), beta_(beta), param_size_(param_size), axes_(axes), epsilon_(epsilon),
      rms_(rms_scaling) {}

std::string LayerNormNode::describe() const {
    return std::string("LayerNormalization(last ") + std::to_string(axes_) +
           (rms_ ? " axes, rms_scaling)" : " axes)");
}

Shape LayerNormNode::output_shape(const std::vector<Shape>& inputs) {
    if (inputs.size() != 1 || axes_ < 1 || axes_ > static_cast<std::ptrdiff_t>(inputs[0].size())) {
        throw std::invalid_argument(describe() + " expects one input with at least " +
                                    std::to_string(axes_) + " sample axes");
    }
    const Shape& s = inputs[0];
    cols_ = 1;
    for (std::size_t i = s.size() - axes_; i < s.size(); ++i) cols_ *= s[i];
    if ((gamma_ || beta_) && cols_ != param_size_) {
        throw std::invalid_argument(describe() + ": gamma / beta have " +
                                    std::to_string(param_size_) + " values, the normalized axes " +
                                    std::to_string(cols_));
    }
    rows_per_sample_ = size_of(s) / cols_;
    return s;
}

std::vector<Param> LayerNormNode::params() {
    std::vector<Param> p;
    if (gamma_) p.push_back({gamma_, param_size_});
    if (beta_) p.push_back({beta_, param_size_});
    return p;
}

void LayerNormNode::reserve(std::ptrdiff_t max_rows) {
    mean_.resize(static_cast<std::size_t>(max_rows * rows_per_sample_));
    rstd_.resize(static_cast<std::size_t>(max_rows * rows_per_sample_));
}

void LayerNormNode::forward(const StepContext& ctx, const float* const* inputs, float* out) {
    nn::layernorm_forward<float>(inputs[0], gamma_, beta_, ctx.rows * rows_per_sample_, cols_,
                                 epsilon_, rms_, out, mean_.data(), rstd_.data());
}

void LayerNormNode::backward(const StepContext& ctx, const float* const* inputs, const float*,
                             float* dout, float* const* dinputs, float* const* dparams) {
    float* dgamma = gamma_ ? dparams[0] : nullptr;
    float* dbeta = beta_ ? dparams[gamma_ ? 1 : 0] : nullptr;
    if (!dinputs[0] && !dgamma && !dbeta) return;
    nn::layernorm_backward<float>(inputs[0], gamma_, mean_.data(), rstd_.data(), dout,
                                  ctx.rows * rows_per_sample_, cols_, rms_, dinputs[0], dgamma,
                                  dbeta);
}

// -- UnitNormalization ---------------------------------------------------------------------
std::string UnitNormNode::describe() const {
    return "UnitNormalization(last " + std::to_string(axes_) + " axes)";
}

Shape UnitNormNode::output_shape(const std::vector<Shape>& inputs) {
    if (inputs.size() != 1 || axes_ < 1 || axes_ > static_cast<std::ptrdiff_t>(inputs[0].size())) {
        throw std::invalid_argument(describe() + " expects one input with at least " +
                                    std::to_string(axes_) + " sample axes");
    }
    const Shape& s = inputs[0];
    cols_ = 1;
    for (std::size_t i = s.size() - axes_; i < s.size(); ++i) cols_ *= s[i];
    rows_per_sample_ = cols_ ? size_of(s) / cols_ : 0;
    return s;
}

void UnitNormNode::reserve(std::ptrdiff_t max_rows) {
    inv_.resize(static_cast<std::size_t>(max_rows * rows_per_sample_));
}

void UnitNormNode::forward(const StepContext& ctx, const float* const* inputs, float* out) {
    nn::unit_normalize_forward<float>(inputs[0], ctx.rows * rows_per_sample_, cols_, epsilon_,
                                      out, inv_.data());
}

void UnitNormNode::backward(const StepContext& ctx, const float* const*, const float* out,
                            float* dout, float* const* dinputs, float* const*) {
    if (!dinputs[0]) return;
    nn::unit_normalize_backward<float>(out, inv_.data(), dout, ctx.rows * rows_per_sample_, cols_,
                                       epsilon_, dinputs[0]);
}

}  // namespace pydl::plan
