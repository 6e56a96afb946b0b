#include "plan/nodes/merge_node.h"

#include <cstring>
#include <stdexcept>

#include "cpu/threads.h"

namespace pydl::plan {

using std::ptrdiff_t;

namespace {

constexpr ptrdiff_t kGrain = 16384;

template <class F>
void elementwise(ptrdiff_t n, F&& f) {
    parallel_for(n, kGrain, [&](ptrdiff_t b, ptrdiff_t e) {
        for (ptrdiff_t i = b; i < e; ++i) f(i);
    });
}

const char* kind_name(MergeKind kind) {
    switch (kind) {
        case MergeKind::add: return "Add";
        case MergeKind::subtract: return "Subtract";
        case MergeKind::multiply: return "Multiply";
        case MergeKind::average: return "Average";
        case MergeKind::maximum: return "Maximum";
        default: return "Minimum";
    }
}

}  // namespace

std::string MergeNode::describe() const { return kind_name(kind_); }

Shape MergeNode::output_shape(const std::vector<Shape>& inputs) {
    if (inputs.empty() || (kind_ == MergeKind::subtract && inputs.size() != 2)) {
        throw std::invalid_argument(describe() + " expects " +
                                    (kind_ == MergeKind::subtract ? "2 inputs" : "inputs"));
    }
    for (const Shape& s : inputs) {
        if (s != inputs[0]) {
            throw std::invalid_argument(describe() + " expects inputs of one shape");
        }
    }
    count_ = inputs.size();
    width_ = size_of(inputs[0]);
    return inputs[0];
}

void MergeNode::reserve(ptrdiff_t max_rows) {
    const std::size_t kept = kind_ == MergeKind::average ? (count_ > 1 ? count_ - 1 : 0)
                                                         : (count_ > 2 ? count_ - 2 : 0);
    partials_.assign(kept, std::vector<float>(static_cast<std::size_t>(max_rows * width_)));
    carry_.resize(static_cast<std::size_t>(max_rows * width_));
    next_.resize(static_cast<std::size_t>(max_rows * width_));
}

const float* MergeNode::partial(std::size_t i, const float* const* inputs, const float* out) const {
    if (i == 0) return inputs[0];
    if (i - 1 < partials_.size()) return partials_[i - 1].data();
    return out;  // the last partial is the output (not for Average)
}

void MergeNode::forward(const StepContext& ctx, const float* const* inputs, float* out) {
    const ptrdiff_t n = ctx.rows * width_;
    if (count_ == 1) {
        if (kind_ == MergeKind::average) {
            elementwise(n, [&](ptrdiff_t i) { out[i] = inputs[0][i] / 1.0f; });
        } else {
            std::memcpy(out, inputs[0], sizeof(float) * static_cast<std::size_t>(n));
        }
        return;
    }
    for (std::size_t i = 1; i < count_; ++i) {
        const float* a = partial(i - 1, inputs, out);
        const float* b = inputs[i];
        float* p = i - 1 < partials_.size() ? partials_[i - 1].data() : out;
        switch (kind_) {
            case MergeKind::add:
            case MergeKind::average: elementwise(n, [&](ptrdiff_t j) { p[j] = a[j] + b[j]; }); break;
            case MergeKind::subtract: elementwise(n, [&](ptrdiff_t j) { p[j] = a[j] - b[j]; }); break;
            case MergeKind::multiply: elementwise(n, [&](ptrdiff_t j) { p[j] = a[j] * b[j]; }); break;
            case MergeKind::maximum:
                elementwise(n, [&](ptrdiff_t j) { p[j] = a[j] >= b[j] ? a[j] : b[j]; });
                break;
            case MergeKind::minimum:
                elementwise(n, [&](ptrdiff_t j) { p[j] = a[j] <= b[j] ? a[j] : b[j]; });
                break;
        }
    }
    if (kind_ == MergeKind::average) {
        const float* sum = partials_.back().data();
        const float count = static_cast<float>(count_);
        elementwise(n, [&](ptrdiff_t j) { out[j] = sum[j] / count; });
    }
}

void MergeNode::backward(const StepContext& ctx, const float* const* inputs, const float* out,
                         float* dout, float* const* dinputs, float* const*) {
    const ptrdiff_t n = ctx.rows * width_;
    const std::size_t bytes = sizeof(float) * static_cast<std::size_t>(n);
    // G: the gradient at the chain's current partial.
    const float* g = dout;
    if (kind_ == MergeKind::average) {
        const float count = static_cast<float>(count_);
        float* c = carry_.data();
        elementwise(n, [&](ptrdiff_t j) { c[j] = dout[j] / count; });
        g = c;
    }
    if (count_ == 1) {
        if (dinputs[0]) std::memcpy(dinputs[0], g, bytes);
        return;
    }
    for (std::size_t i = count_ - 1; i >= 1; --i) {
        const float* a = partial(i - 1, inputs, kind_ == MergeKind::average ? nullptr : out);
        const float* b = inputs[i];
        float* db = dinputs[i];
        // The gradient of p_{i-1}: into dinputs[0] at the end of the chain, else scratch.
        float* da = i == 1 ? dinputs[0] : (g == next_.data() ? carry_.data() : next_.data());
        switch (kind_) {
            case MergeKind::add:
            case MergeKind::average:
                if (db) std::memcpy(db, g, bytes);
                if (da) std::memcpy(da, g, bytes);
                break;
            case MergeKind::subtract:
                if (db) elementwise(n, [&](ptrdiff_t j) { db[j] = -g[j]; });
                if (da) std::memcpy(da, g, bytes);
                break;
            case MergeKind::multiply:
                if (db) elementwise(n, [&](ptrdiff_t j) { db[j] = g[j] * a[j]; });
                if (da) elementwise(n, [&](ptrdiff_t j) { da[j] = g[j] * b[j]; });
                break;
            case MergeKind::maximum:
            case MergeKind::minimum: {
                const bool max = kind_ == MergeKind::maximum;
                if (db) {
                    elementwise(n, [&](ptrdiff_t j) {
                        const bool take_a = max ? a[j] >= b[j] : a[j] <= b[j];
                        db[j] = take_a ? 0.0f : g[j];
                    });
                }
                if (da) {
                    elementwise(n, [&](ptrdiff_t j) {
                        const bool take_a = max ? a[j] >= b[j] : a[j] <= b[j];
                        da[j] = take_a ? g[j] : 0.0f;
                    });
                }
                break;
            }
        }
        if (i == 1) break;
        if (!da) return;  // nothing upstream wants a gradient (cannot happen mid-chain)
        g = da;
    }
}

Shape ConcatNode::output_shape(const std::vector<Shape>& inputs) {
    if (inputs.empty()) throw std::invalid_argument("Concatenate expects inputs");
    const Shape& first = inputs[0];
    if (axis_ < 0 || axis_ >= static_cast<std::ptrdiff_t>(first.size())) {
        throw std::invalid_argument("Concatenate: axis out of range of the samples' shape");
    }
    Shape out = first;
    out[axis_] = 0;
    blocks_.clear();
    for (const Shape& s : inputs) {
        if (s.size() != first.size()) throw std::invalid_argument("Concatenate: ranks differ");
        for (std::size_t d = 0; d < s.size(); ++d) {
            if (static_cast<std::ptrdiff_t>(d) != axis_ && s[d] != first[d]) {
                throw std::invalid_argument("Concatenate: shapes differ off the axis");
            }
        }
        out[axis_] += s[axis_];
        std::ptrdiff_t block = 1;
        for (std::size_t d = axis_; d < s.size(); ++d) block *= s[d];
        blocks_.push_back(block);
    }
    outer_ = 1;
    for (std::ptrdiff_t d = 0; d < axis_; ++d) outer_ *= first[d];
    out_block_ = 0;
    for (std::ptrdiff_t b : blocks_) out_block_ += b;
    return out;
}

void ConcatNode::forward(const StepContext& ctx, const float* const* inputs, float* out) {
    const std::ptrdiff_t rows = ctx.rows * outer_;
    parallel_for(rows, 256, [&](ptrdiff_t r0, ptrdiff_t r1) {
        for (ptrdiff_t r = r0; r < r1; ++r) {
            float* dst = out + r * out_block_;
            for (std::size_t i = 0; i < blocks_.size(); ++i) {
                std::memcpy(dst, inputs[i] + r * blocks_[i], sizeof(float) * blocks_[i]);
                dst += blocks_[i];
            }
        }
    });
}

void ConcatNode::backward(const StepContext& ctx, const float* const*, const float*,
                          float* dout, float* const* dinputs, float* const*) {
    const std::ptrdiff_t rows = ctx.rows * outer_;
    parallel_for(rows, 256, [&](ptrdiff_t r0, ptrdiff_t r1) {
        for (ptrdiff_t r = r0; r < r1; ++r) {
            const float* src = dout + r * out_block_;
            for (std::size_t i = 0; i < blocks_.size(); ++i) {
                if (dinputs[i]) {
                    std::memcpy(dinputs[i] + r * blocks_[i], src, sizeof(float) * blocks_[i]);
                }
                src += blocks_[i];
            }
        }
    });
}

}  // namespace pydl::plan
