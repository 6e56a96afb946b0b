// Layers that read integer tokens, which reach the plan as float values of a model
// input (the caller checks them all before a call: nn::find_bad_token_value):
// Embedding (nn/embedding.h) and CategoryEncoding (nn/tokens.h). Each truncates
// the values to int64 as the tape's as_indices does.
#pragma once

#include <cstdint>
#include <vector>

#include "nn/tokens.h"
#include "plan/node.h"

namespace pydl::plan {

// Embedding: out = table[tokens] (sample shape S -> S + (dim,)); the table's
// gradient is the scatter-add of nn::embedding_backward. No input gradient.
class EmbeddingNode final : public Node {
public:
    EmbeddingNode(float* table, std::ptrdiff_t input_dim, std::ptrdiff_t dim);

    std::string describe() const override;
    Shape output_shape(const std::vector<Shape>& inputs) override;
    std::vector<Param> params() override;
    void reserve(std::ptrdiff_t max_rows) override;
    void forward(const StepContext& ctx, const float* const* inputs, float* out) override;
    void backward(const StepContext& ctx, const float* const* inputs, const float* out,
                  float* dout, float* const* dinputs, float* const* dparams) override;
    std::int64_t token_count(std::size_t input) const override {
        return input == 0 ? input_dim_ : 0;
    }

private:
    float* table_;
    std::ptrdiff_t input_dim_, dim_;
    std::ptrdiff_t per_row_ = 0;  // tokens per sample
    std::vector<std::int64_t> tokens_;
};

// CategoryEncoding: multi_hot / count of a sample's tokens (sample shape (L,) ->
// (num_tokens,)), or one_hot of each token (S -> S + (num_tokens,), a trailing axis
// of 1 squeezed, as Keras). Its output is a constant: no gradient flows back.
class CategoryEncodingNode final : public Node {
public:
    CategoryEncodingNode(std::int64_t num_tokens, nn::CategoryMode mode)
        : num_tokens_(num_tokens), mode_(mode) {}

    std::string describe() const override;
    Shape output_shape(const std::vector<Shape>& inputs) override;
    void reserve(std::ptrdiff_t max_rows) override;
    void forward(const StepContext& ctx, const float* const* inputs, float* out) override;
    void backward(const StepContext& ctx, const float* const* inputs, const float* out,
                  float* dout, float* const* dinputs, float* const* dparams) override;
    std::int64_t token_count(std::size_t input) const override {
        return input == 0 ? num_tokens_ : 0;
    }

private:
    std::int64_t num_tokens_;
    nn::CategoryMode mode_;
    std::ptrdiff_t per_row_ = 0;
    std::vector<std::int64_t> tokens_;
};

}  // namespace pydl::plan
