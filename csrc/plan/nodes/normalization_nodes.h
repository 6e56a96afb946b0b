// BatchNormalization, LayerNormalization and UnitNormalization: the kernels of
// nn/batchnorm.h, nn/layernorm.h and nn/unit_norm.h called as the tape's ops call
// them (pydl/ops/normalization.py).
#pragma once

#include <vector>

#include "plan/node.h"

namespace pydl::plan {

// BatchNormalization over the sample axis `axis` (0 = the first axis after the
// batch). training: batch statistics, and the moving statistics updated in forward
// (mean, then variance: BatchNormalization.call's order); otherwise the moving
// statistics (Keras' inference mode: training=False or trainable=False).
class BatchNormNode final : public Node {
public:
    // gamma / beta (channels) or nullptr; moving_mean / moving_variance (channels).
    BatchNormNode(float* gamma, float* beta, float* moving_mean, float* moving_variance,
                  std::ptrdiff_t channels, std::ptrdiff_t axis, double momentum,
                  double epsilon, bool training);

    std::string describe() const override;
    Shape output_shape(const std::vector<Shape>& inputs) override;
    std::vector<Param> params() override;
    void reserve(std::ptrdiff_t max_rows) override;
    void forward(const StepContext& ctx, const float* const* inputs, float* out) override;
    void backward(const StepContext& ctx, const float* const* inputs, const float* out,
                  float* dout, float* const* dinputs, float* const* dparams) override;

private:
    float *gamma_, *beta_, *moving_mean_, *moving_variance_;
    std::ptrdiff_t channels_, axis_;
    double momentum_, epsilon_;
    bool training_;
    std::ptrdiff_t outer_ = 1, inner_ = 1;  // per sample, around the channel axis
    std::vector<float> mean_, variance_, inv_std_;
};

// LayerNormalization over the last `axes` sample axes (rms_scaling as Keras 3).
class LayerNormNode final : public Node {
public:
    // gamma / beta (the normalized axes' size) or nullptr.
    LayerNormNode(float* gamma, float* beta, std::ptrdiff_t param_size, std::ptrdiff_t axes,
                  double epsilon, bool rms_scaling);

    std::string describe() const override;
    Shape output_shape(const std::vector<Shape>& inputs) override;
    std::vector<Param> params() override;
    void reserve(std::ptrdiff_t max_rows) override;
    void forward(const StepContext& ctx, const float* const* inputs, float* out) override;
    void backward(const StepContext& ctx, const float* const* inputs, const float* out,
                  float* dout, float* const* dinputs, float* const* dparams) override;

private:
    float *gamma_, *beta_;
    std::ptrdiff_t param_size_, axes_;
    double epsilon_;
    bool rms_;
    std::ptrdiff_t rows_per_sample_ = 1, cols_ = 1;
    std::vector<float> mean_, rstd_;
};

// UnitNormalization over the last `axes` sample axes (nn/unit_norm.h).
class UnitNormNode final : public Node {
public:
    UnitNormNode(std::ptrdiff_t axes, double epsilon) : axes_(axes), epsilon_(epsilon) {}

    std::string describe() const override;
    Shape output_shape(const std::vector<Shape>& inputs) override;
    void reserve(std::ptrdiff_t max_rows) override;
    void forward(const StepContext& ctx, const float* const* inputs, float* out) override;
    void backward(const StepContext& ctx, const float* const* inputs, const float* out,
                  float* dout, float* const* dinputs, float* const* dparams) override;

private:
    std::ptrdiff_t axes_;
    double epsilon_;
    std::ptrdiff_t rows_per_sample_ = 1, cols_ = 1;
    std::vector<float> inv_;
};

}  // namespace pydl::plan
