#include "plan/train_plan.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "cpu/threads.h"
#include "nn/dense.h"
#include "nn/gather.h"

namespace pydl::plan {

using std::ptrdiff_t;
using nn::Activation;

namespace {

// The split _core.activation_forward / activation_backward use (bind_activations.cpp):
// flat element ranges for element-wise activations, rows for softmax.
constexpr ptrdiff_t kElementGrain = 16384;

ptrdiff_t row_grain(ptrdiff_t cols) {
    return cols >= kElementGrain ? 1 : kElementGrain / std::max<ptrdiff_t>(cols, 1);
}

void activation_forward(Activation act, float alpha, const float* x, float* y, ptrdiff_t rows,
                        ptrdiff_t cols) {
    if (nn::is_elementwise(act)) {
        parallel_for(rows * cols, kElementGrain, [&](ptrdiff_t b, ptrdiff_t e) {
            nn::activation_forward_rows<float>(act, alpha, x + b, 0, y + b, 0, 1, e - b);
        });
    } else {
        parallel_for(rows, row_grain(cols), [&](ptrdiff_t b, ptrdiff_t e) {
            nn::activation_forward_rows<float>(act, alpha, x + b * cols, cols, y + b * cols, cols,
                                               e - b, cols);
        });
    }
}

// dx = dy * act'(z) with z the activation's input and y its output (the tape
// passes both).
void activation_backward(Activation act, float alpha, const float* z, const float* y,
                         const float* dy, float* dx, ptrdiff_t rows, ptrdiff_t cols) {
    if (nn::is_elementwise(act)) {
        parallel_for(rows * cols, kElementGrain, [&](ptrdiff_t b, ptrdiff_t e) {
            nn::activation_backward_rows<float>(act, alpha, z + b, y + b, dy + b, dx + b, 1, e - b);
        });
    } else {
        parallel_for(rows, row_grain(cols), [&](ptrdiff_t b, ptrdiff_t e) {
            const ptrdiff_t o = b * cols;
            nn::activation_backward_rows<float>(act, alpha, nullptr, y + o, dy + o, dx + o, e - b,
                                                cols);
        });
    }
}

// The tape's dropout (pydl/ops/dropout.py): out = v * mask with mask =
// keep * f32(1 / (1 - rate)), keep = u >= f32(rate) (NumPy compares a float32
// array with the Python rate in float32). A product, not a select: an inf or
// NaN in v stays NaN where dropped, as in NumPy. Forward (v = x) and backward
// (v = dy) alike; element-wise, so any split gives the same bits.
void dropout_apply(const float* v, const float* u, float threshold, float scale, float* out,
                   ptrdiff_t n) {
    parallel_for(n, kElementGrain, [&](ptrdiff_t b, ptrdiff_t e) {
        for (ptrdiff_t i = b; i < e; ++i) {
            // keep.astype(float32) * scale, as the tape builds it: no branch.
            const float mask = static_cast<float>(u[i] >= threshold) * scale;
            out[i] = v[i] * mask;
        }
    });
}

// The tape's dense op keeps z for these (pydl/ops/dense.py): its logits for the
// loss fusion, or because the backward needs it. Otherwise the GEMM epilogue
// applies the activation.
bool dense_keeps_z(Activation act) {
    return act == Activation::softmax || act == Activation::sigmoid ||
           nn::needs_preactivation(act);
}

// The tape's loss fusion (pydl/ops/losses.py): cross-entropy on the output of a
// softmax (sigmoid for binary) is computed from its logits.
bool fuses(const LossSpec& loss, Activation last) {
    if (loss.from_logits) return false;
    switch (loss.kind) {
        case nn::LossKind::categorical_crossentropy:
        case nn::LossKind::sparse_categorical_crossentropy:
            return last == Activation::softmax;
        case nn::LossKind::binary_crossentropy:
            return last == Activation::sigmoid;
        default:
            return false;
    }
}

}  // namespace

TrainPlan::TrainPlan(ptrdiff_t input_features, std::vector<LayerSpec> layers, LossSpec loss,
                     OptimizerSpec optimizer, ptrdiff_t max_batch)
    : input_features_(input_features),
      layers_(std::move(layers)),
      loss_(loss),
      optimizer_(std::move(optimizer)),
      max_batch_(max_batch) {
    if (layers_.empty()) throw std::invalid_argument("a plan needs at least one layer");
    if (max_batch_ < 1) throw std::invalid_argument("max_batch must be >= 1");
    ptrdiff_t features = input_features_;
    bool seen_dense = false;
    dropout_index_.assign(layers_.size(), -1);
    for (std::size_t i = 0; i < layers_.size(); ++i) {
        LayerSpec& l = layers_[i];
        if (l.in != features) throw std::invalid_argument("layers do not chain");
        if (l.kind != LayerKind::dense) l.out = l.in;
        if (l.kind == LayerKind::dropout) {
            // float32(rate) of a rate in (0, 1) may round to 0 or 1: both are valid.
            if (!(l.dropout_threshold >= 0.0f && l.dropout_threshold <= 1.0f)) {
                throw std::invalid_argument("a dropout threshold must be in [0, 1]");
            }
            l.activation = Activation::linear;  // never a fused loss's final activation
            dropout_index_[i] = num_dropout_++;
        }
        if (l.kind == LayerKind::dense && !seen_dense) {
            seen_dense = true;
            first_dense_ = i;
        }
        features = l.out;
    }
    if (!seen_dense) throw std::invalid_argument("a plan needs at least one dense layer");
    fused_ = fuses(loss_, layers_.back().activation);

    const auto B = static_cast<std::size_t>(max_batch_);
    x_batch_.resize(B * static_cast<std::size_t>(input_features_));
    if (loss_.kind == nn::LossKind::sparse_categorical_crossentropy) {
        labels64_batch_.resize(B);
        labels32_batch_.resize(B);
    } else {
        y_batch_.resize(B * static_cast<std::size_t>(output_features()));
    }
    weight_batch_.resize(B);

    buffers_.resize(layers_.size());
    for (std::size_t i = 0; i < layers_.size(); ++i) {
        const auto n = B * static_cast<std::size_t>(layers_[i].out);
        Buffers& buf = buffers_[i];
        buf.y.resize(n);
        buf.dy.resize(n);
        buf.keep_z = layers_[i].kind == LayerKind::dense && dense_keeps_z(layers_[i].activation);
        if (buf.keep_z) buf.z.resize(n);
    }

    // Trainable tensors in model.trainable_weights order: kernel, then bias.
    for (const LayerSpec& l : layers_) {
        if (l.kind != LayerKind::dense) continue;
        for (int part = 0; part < 2; ++part) {
            float* w = part == 0 ? l.kernel : l.bias;
            if (!w) continue;
            nn::OptimizerTensor<float> t;
            t.w = w;
            t.n = part == 0 ? l.in * l.out : l.out;
            grads_.emplace_back(static_cast<std::size_t>(t.n));
            tensors_.push_back(t);
        }
    }
    if (optimizer_.tensors.size() != tensors_.size()) {
        throw std::invalid_argument("optimizer state count does not match the trainable tensors");
    }
    for (std::size_t i = 0; i < tensors_.size(); ++i) {
        tensors_[i].g = grads_[i].data();
        for (int s = 0; s < 3; ++s) tensors_[i].slot[s] = optimizer_.tensors[i].slot[s];
    }
}

const float* TrainPlan::layer_input(std::size_t i) const {
    return i == 0 ? x_batch_.data() : buffers_[i - 1].y.data();
}

std::ptrdiff_t TrainPlan::dropout_features(std::ptrdiff_t index) const {
    for (std::size_t i = 0; i < layers_.size(); ++i) {
        if (dropout_index_[i] == index) return layers_[i].out;
    }
    throw std::out_of_range("no such dropout layer");
}

const float* TrainPlan::dropout_rows(const RunArgs& a, std::size_t layer, ptrdiff_t row) const {
    return a.dropout_uniforms[dropout_index_[layer]] + row * layers_[layer].out;
}

void TrainPlan::gather(const RunArgs& a, ptrdiff_t start, ptrdiff_t rows) {
    const std::int64_t* idx = a.indices + start;
    nn::gather_rows(a.x, sizeof(float) * static_cast<std::size_t>(input_features_), idx, rows,
                    x_batch_.data());
    if (a.y) {
        nn::gather_rows(a.y, sizeof(float) * static_cast<std::size_t>(output_features()), idx,
                        rows, y_batch_.data());
    } else if (a.labels_i64) {
        nn::gather_rows(a.labels_i64, sizeof(std::int64_t), idx, rows, labels64_batch_.data());
    } else {
        nn::gather_rows(a.labels_i32, sizeof(std::int32_t), idx, rows, labels32_batch_.data());
    }
    if (a.sample_weight) {
        nn::gather_rows(a.sample_weight, sizeof(float), idx, rows, weight_batch_.data());
    }
}

// The next step's input rows start arriving while this step computes (a small
// batch's step is a few microseconds, about one cache miss per row to gather).
void TrainPlan::prefetch_next_batch(const RunArgs& a, ptrdiff_t start) {
    constexpr std::size_t kMaxBytesPerRow = 4096;
    constexpr std::size_t kMaxBytes = 256 * 1024;  // beyond that the L2 would not keep them
    const std::size_t row_bytes = sizeof(float) * static_cast<std::size_t>(input_features_);
    const ptrdiff_t rows = std::min(a.batch_size, a.num_indices - start);
    if (rows <= 0 || row_bytes * static_cast<std::size_t>(rows) > kMaxBytes) return;
    nn::prefetch_rows(a.x, row_bytes, a.indices + start, rows, kMaxBytesPerRow);
}

float TrainPlan::forward_and_loss(const RunArgs& a, ptrdiff_t row, ptrdiff_t rows,
                                  bool weighted, bool labels64, bool want_outputs) {
    const std::size_t last = layers_.size() - 1;
    for (std::size_t i = 0; i < layers_.size(); ++i) {
        const LayerSpec& l = layers_[i];
        Buffers& buf = buffers_[i];
        // A fused loss reads the logits, and the backward of the final softmax /
        // sigmoid is skipped: its output matters only to a caller that asks for it.
        const bool skip_output = fused_ && i == last && !want_outputs;
        if (l.kind == LayerKind::dense) {
            if (skip_output) {  // the logits alone, by the same GEMM as below
                nn::dense_forward<float>(layer_input(i), l.kernel, l.bias, rows, l.in, l.out,
                                         Activation::linear, 0.0f, buf.z.data(), nullptr);
            } else {
                nn::dense_forward<float>(layer_input(i), l.kernel, l.bias, rows, l.in, l.out,
                                         l.activation, l.alpha, buf.y.data(),
                                         buf.keep_z ? buf.z.data() : nullptr);
            }
        } else if (skip_output) {
            continue;
        } else if (l.kind == LayerKind::activation) {
            activation_forward(l.activation, l.alpha, layer_input(i), buf.y.data(), rows, l.out);
        } else {
            dropout_apply(layer_input(i), dropout_rows(a, i, row), l.dropout_threshold,
                          l.dropout_scale, buf.y.data(), rows * l.out);
        }
    }

    nn::LossProblem<float> p;
    p.kind = loss_.kind;
    p.batch = rows;
    p.rows = rows;
    p.cols = output_features();
    p.delta = loss_.delta;
    p.from_logits = loss_.from_logits || fused_;
    if (!fused_) {
        p.y_pred = buffers_[last].y.data();
        p.grad = buffers_[last].dy.data();
    } else if (layers_[last].kind == LayerKind::dense) {
        p.y_pred = buffers_[last].z.data();  // the logits, kept (dense_keeps_z)
        p.grad = buffers_[last].dy.data();
    } else {
        p.y_pred = layer_input(last);  // a final Activation: its input are the logits
        p.grad = buffers_[last - 1].dy.data();
    }
    if (loss_.kind == nn::LossKind::sparse_categorical_crossentropy) {
        if (labels64) {
            p.labels_i64 = labels64_batch_.data();
        } else {
            p.labels_i32 = labels32_batch_.data();
        }
    } else {
        p.y_true = y_batch_.data();
    }
    p.sample_weight = weighted ? weight_batch_.data() : nullptr;
    // The tape's loss op gives float32(loss); Trainer._loss_value then adds each
    // penalty of model.losses (layers in order, kernel before bias) in float32.
    float value = static_cast<float>(nn::loss(p));
    for (const LayerSpec& l : layers_) {
        if (l.kind != LayerKind::dense) continue;
        if (l.kernel_penalty.active) {
            value += penalty_value(l.kernel_penalty, l.kernel, l.in * l.out);
        }
        if (l.bias && l.bias_penalty.active) {
            value += penalty_value(l.bias_penalty, l.bias, l.out);
        }
    }
    return value;
}

void TrainPlan::backward(const RunArgs& a, ptrdiff_t row, ptrdiff_t rows) {
    const std::size_t last = layers_.size() - 1;
    // A fused final Activation is skipped: the loss gradient is already at its input.
    const bool skip_last = fused_ && layers_[last].kind == LayerKind::activation;
    std::size_t tensor = tensors_.size();
    // Tensors are laid out in forward order; walk them backward alongside the layers.
    for (std::size_t i = last + 1; i-- > first_dense_;) {
        const LayerSpec& l = layers_[i];
        Buffers& buf = buffers_[i];
        float* dx = i > first_dense_ ? buffers_[i - 1].dy.data() : nullptr;
        if (l.kind == LayerKind::activation) {
            if (i == last && skip_last) continue;
            activation_backward(l.activation, l.alpha, layer_input(i), buf.y.data(),
                                buf.dy.data(), dx, rows, l.out);
            continue;
        }
        if (l.kind == LayerKind::dropout) {
            dropout_apply(buf.dy.data(), dropout_rows(a, i, row), l.dropout_threshold,
                          l.dropout_scale, dx, rows * l.out);
            continue;
        }
        float* db = nullptr;
        if (l.bias) db = grads_[--tensor].data();
        float* dw = grads_[--tensor].data();
        // Fused loss: the gradient is at the logits, so only the linear part remains.
        const Activation act = (fused_ && i == last) ? Activation::linear : l.activation;
        nn::dense_backward<float>(layer_input(i), l.kernel, buf.keep_z ? buf.z.data() : nullptr,
                                  buf.y.data(), buf.dy.data(), rows, l.in, l.out, act, l.alpha,
                                  buf.dy.data(), dx, dw, db);
        // The tape adds the penalty's gradient after the data gradient.
        if (l.kernel_penalty.active) {
            add_penalty_gradient(l.kernel_penalty, l.kernel, dw, l.in * l.out);
        }
        if (db && l.bias_penalty.active) add_penalty_gradient(l.bias_penalty, l.bias, db, l.out);
    }
}

void TrainPlan::run(const RunArgs& a) {
    const bool weighted = a.sample_weight != nullptr;
    const bool labels64 = a.labels_i64 != nullptr;
    const ptrdiff_t out = output_features();
    float* predictions = a.predictions;
    if (num_dropout_ > 0 && !a.dropout_uniforms) {
        throw std::invalid_argument("a plan with dropout layers needs their uniforms");
    }
    for (ptrdiff_t k = 0; k < a.steps; ++k) {
        const ptrdiff_t row = k * a.batch_size;  // among this call's rows
        const ptrdiff_t start = a.first + row;
        const ptrdiff_t rows = std::min(a.batch_size, a.num_indices - start);
        gather(a, start, rows);
        if (k + 1 < a.steps) prefetch_next_batch(a, start + rows);
        a.losses[k] = forward_and_loss(a, row, rows, weighted, labels64, predictions != nullptr);
        if (predictions) {
            std::memcpy(predictions, buffers_.back().y.data(),
                        sizeof(float) * static_cast<std::size_t>(rows * out));
            predictions += rows * out;
        }
        backward(a, row, rows);
        update(a.learning_rates[k], a.iterations + k + 1);
    }
}

}  // namespace pydl::plan
