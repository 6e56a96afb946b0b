#include "plan/nodes/token_nodes.h"

#include <cstring>
#include <stdexcept>

#include "nn/embedding.h"

namespace pydl::plan {

// -- Embedding ---------------------------------------------------------------------------
EmbeddingNode::EmbeddingNode(float* table, std::ptrdiff_t input_dim, std::ptrdiff_t dim)
    : table_(table), input_dim_(input_dim), dim_(dim) {}

std::string EmbeddingNode::describe() const {
    return "Embedding(" + std::to_string(input_dim_) + ", " + std::to_string(dim_) + ")";
}

Shape EmbeddingNode::output_shape(const std::vector<Shape>& inputs) {
    if (inputs.size() != 1) throw std::invalid_argument(describe() + " expects one input");
    per_row_ = size_of(inputs[0]);
    Shape out = inputs[0];
    out.push_back(dim_);
    return out;
}

std::vector<Param> EmbeddingNode::params() { return {{table_, input_dim_ * dim_}}; }

void EmbeddingNode::reserve(std::ptrdiff_t max_rows) {
    tokens_.resize(static_cast<std::size_t>(max_rows * per_row_));
}

void EmbeddingNode::forward(const StepContext& ctx, const float* const* inputs, float* out) {
    const std::ptrdiff_t n = ctx.rows * per_row_;
    nn::tokens_from_values(inputs[0], n, tokens_.data());
    nn::embedding_forward<float>(table_, input_dim_, dim_, tokens_.data(), n, out);
}

void EmbeddingNode::backward(const StepContext& ctx, const float* const*, const float*,
                             float* dout, float* const* dinputs, float* const* dparams) {
    const std::ptrdiff_t n = ctx.rows * per_row_;
    if (dinputs[0]) std::memset(dinputs[0], 0, sizeof(float) * static_cast<std::size_t>(n));
    if (dparams[0]) nn::embedding_backward<float>(dout, tokens_.data(), n, input_dim_, dim_,
                                                  dparams[0]);
}

// -- CategoryEncoding ----------------------------------------------------------------------
std::string CategoryEncodingNode::describe() const {
    static const char* names[] = {"multi_hot", "count", "one_hot"};
    return "CategoryEncoding(" + std::to_string(num_tokens_) + ", " +
           names[static_cast<int>(mode_)] + ")";
}

Shape CategoryEncodingNode::output_shape(const std::vector<Shape>& inputs) {
    if (inputs.size() != 1) throw std::invalid_argument(describe() + " expects one input");
    const Shape& s = inputs[0];
    per_row_ = size_of(s);
    if (mode_ != nn::CategoryMode::one_hot) {
        if (s.size() != 1) {
            throw std::invalid_argument(describe() + " expects samples of one axis of tokens");
        }
        return {num_tokens_};
    }
    Shape out = s;
    if (!out.empty() && out.back() == 1) out.pop_back();
    out.push_back(num_tokens_);
    return out;
}

void CategoryEncodingNode::reserve(std::ptrdiff_t max_rows) {
    tokens_.resize(static_cast<std::size_t>(max_rows * per_row_));
}

void CategoryEncodingNode::forward(const StepContext& ctx, const float* const* inputs,
                                   float* out) {
    nn::tokens_from_values(inputs[0], ctx.rows * per_row_, tokens_.data());
    nn::category_encode<float>(tokens_.data(), ctx.rows, per_row_, num_tokens_, mode_, out);
}

void CategoryEncodingNode::backward(const StepContext& ctx, const float* const*, const float*,
                                    float*, float* const* dinputs, float* const*) {
    if (dinputs[0]) {
        std::memset(dinputs[0], 0, sizeof(float) * static_cast<std::size_t>(ctx.rows * per_row_));
    }
}

}  // namespace pydl::plan
