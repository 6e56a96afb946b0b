// GlobalAveragePooling1D / GlobalMaxPooling1D over the steps of (steps, features)
// samples (channels_last) or (features, steps) (channels_first): nn/pooling.h as the
// tape's ops call it. The average may take a second input: the token values of the
// model input whose Embedding(mask_zero=True) masks the steps (a step is kept where
// its token is not 0), as Keras 3's masked average.
#pragma once

#include <cstdint>
#include <vector>

#include "plan/node.h"

namespace pydl::plan {

class GlobalPoolNode final : public Node {
public:
    // average: mean over the (kept) steps, else max. masked: a second input of
    // (steps,) tokens per sample (channels_last only).
    GlobalPoolNode(bool average, bool channels_first, bool keepdims, bool masked)
        : average_(average), channels_first_(channels_first), keepdims_(keepdims),
          masked_(masked) {}

    std::string describe() const override;
    Shape output_shape(const std::vector<Shape>& inputs) override;
    void reserve(std::ptrdiff_t max_rows) override;
    void forward(const StepContext& ctx, const float* const* inputs, float* out) override;
    void backward(const StepContext& ctx, const float* const* inputs, const float* out,
                  float* dout, float* const* dinputs, float* const* dparams) override;

private:
    bool average_, channels_first_, keepdims_, masked_;
    std::ptrdiff_t outer_ = 1, steps_ = 1, inner_ = 1;  // per sample
    std::vector<std::uint8_t> mask_;
    std::vector<std::int64_t> argmax_;
};

}  // namespace pydl::plan
