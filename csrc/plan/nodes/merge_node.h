// The elementwise merge layers (Add, Subtract, Multiply, Average, Maximum, Minimum)
// on inputs of one shape, as the tape folds them: p1 = op(x0, x1), p2 = op(p1, x2),
// ... (Average: the sum, then / float32(n)); backward walks the chain back with
// each pairwise op's gradient (pydl/ops/math.py):
//   add (g, g)   subtract (g, -g)   multiply (g * b, g * a)
//   maximum / minimum: t = a >= b (a <= b); (t ? g : 0, t ? 0 : g)
// Partial results are kept for the backward. Element-wise: any thread split gives
// the same bits.
#pragma once

#include <vector>

#include "plan/node.h"

namespace pydl::plan {

enum class MergeKind { add, subtract, multiply, average, maximum, minimum };

class MergeNode final : public Node {
public:
    explicit MergeNode(MergeKind kind) : kind_(kind) {}

    std::string describe() const override;
    Shape output_shape(const std::vector<Shape>& inputs) override;
    void reserve(std::ptrdiff_t max_rows) override;
    void forward(const StepContext& ctx, const float* const* inputs, float* out) override;
    void backward(const StepContext& ctx, const float* const* inputs, const float* out,
                  float* dout, float* const* dinputs, float* const* dparams) override;

private:
    // The value of p_i (p_0 = x0, p_{n-1} = the output before Average's division).
    const float* partial(std::size_t i, const float* const* inputs, const float* out) const;

    MergeKind kind_;
    std::size_t count_ = 0;
    std::ptrdiff_t width_ = 0;
    std::vector<std::vector<float>> partials_;  // p_1 .. p_{n-2} (and p_{n-1} for Average)
    std::vector<float> carry_, next_;           // the chain's gradient while walking back
};

// Concatenate along a per-sample axis: out[o, sum of widths before i + j] = x_i[o, j]
// for `outer` blocks of each input's own size.
class ConcatNode final : public Node {
public:
    explicit ConcatNode(std::ptrdiff_t axis) : axis_(axis) {}  // per-sample axis (>= 0)

    std::string describe() const override { return "Concatenate"; }
    Shape output_shape(const std::vector<Shape>& inputs) override;
    void forward(const StepContext& ctx, const float* const* inputs, float* out) override;
    void backward(const StepContext& ctx, const float* const* inputs, const float* out,
                  float* dout, float* const* dinputs, float* const* dparams) override;

private:
    std::ptrdiff_t axis_;
    std::ptrdiff_t outer_ = 1, out_block_ = 0;  // per sample: blocks, values per output block
    std::vector<std::ptrdiff_t> blocks_;       // values per input block
};

}  // namespace pydl::plan
