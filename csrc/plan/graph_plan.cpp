#include "plan/graph_plan.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "cpu/threads.h"
#include "nn/gather.h"
#include "nn/rules.h"

namespace pydl::plan {

using std::ptrdiff_t;

namespace {

// dst += src, element-wise (the tape's `previous + g`).
void add_into(float* dst, const float* src, ptrdiff_t n) {
    parallel_for(n, 16384, [&](ptrdiff_t b, ptrdiff_t e) {
        for (ptrdiff_t i = b; i < e; ++i) dst[i] = dst[i] + src[i];
    });
}

// g *= s, element-wise (a loss weight reaching the head's gradient).
void scale(float* g, float s, ptrdiff_t n) {
    parallel_for(n, 16384, [&](ptrdiff_t b, ptrdiff_t e) {
        for (ptrdiff_t i = b; i < e; ++i) g[i] = g[i] * s;
    });
}

}  // namespace

GraphPlan::GraphPlan(std::vector<InputSpec> inputs, std::vector<NodeSpec> nodes,
                     std::vector<LossHead> heads, std::vector<Tensor> tensors,
                     std::vector<PenaltyTerm> penalty_order, nn::UpdateRule rule,
                     ptrdiff_t max_batch)
    : inputs_(std::move(inputs)),
      nodes_(std::move(nodes)),
      heads_(std::move(heads)),
      tensors_(std::move(tensors)),
      penalty_order_(std::move(penalty_order)),
      rule_(rule),
      max_batch_(max_batch) {
    if (inputs_.empty()) throw std::invalid_argument("a plan needs at least one input");
    if (heads_.empty()) throw std::invalid_argument("a plan needs at least one loss");
    if (max_batch_ < 1) throw std::invalid_argument("max_batch must be >= 1");
    for (const Tensor& t : tensors_) {
        if ((rule_.ema_momentum >= 0.0) != (t.ema != nullptr)) {
            throw std::invalid_argument("every tensor needs a moving average exactly when the "
                                        "rule keeps them (ema_momentum)");
        }
    }
    build_values();
    plan_backward();
}

void GraphPlan::build_values() {
    const std::size_t n_in = inputs_.size();
    values_.resize(n_in + nodes_.size());
    for (std::size_t v = 0; v < n_in; ++v) {
        values_[v].shape = inputs_[v].shape;
        values_[v].width = size_of(inputs_[v].shape);
    }
    // Shapes, parameters and who reads what, in execution order.
    std::vector<bool> has_trainable(nodes_.size(), false);
    token_limit_.assign(n_in, 0);
    for (std::size_t k = 0; k < nodes_.size(); ++k) {
        NodeSpec& spec = nodes_[k];
        if (!spec.node) throw std::invalid_argument("node " + std::to_string(k) + " is missing");
        std::vector<Shape> in_shapes;
        for (int v : spec.inputs) {
            if (v < 0 || static_cast<std::size_t>(v) >= n_in + k) {
                throw std::invalid_argument("node " + std::to_string(k) + " (" +
                                            spec.node->describe() + ") reads value " +
                                            std::to_string(v) + ", which is not written before it");
            }
            in_shapes.push_back(values_[v].shape);
            values_[v].consumers += 1;
        }
        Value& out = values_[n_in + k];
        out.shape = spec.node->output_shape(in_shapes);
        out.width = size_of(out.shape);
        out.producer = static_cast<int>(k);
        const std::vector<Param> params = spec.node->params();
        if (spec.param_index.size() != params.size()) {
            throw std::invalid_argument("node " + std::to_string(k) + " (" + spec.node->describe() +
                                        ") has " + std::to_string(params.size()) +
                                        " tensors, received " +
                                        std::to_string(spec.param_index.size()) + " indices");
        }
        for (std::size_t p = 0; p < params.size(); ++p) {
            const int t = spec.param_index[p];
            if (t < 0) continue;
            if (static_cast<std::size_t>(t) >= tensors_.size() ||
                tensors_[t].weight != params[p].data || tensors_[t].size != params[p].size) {
                throw std::invalid_argument("node " + std::to_string(k) + " (" +
                                            spec.node->describe() + "): tensor " +
                                            std::to_string(p) + " is not trainable tensor " +
                                            std::to_string(t));
            }
            has_trainable[k] = true;
        }
        if (spec.node->draws_per_row() > 0) drawing_.push_back(k);
        for (std::size_t i = 0; i < spec.inputs.size(); ++i) {
            const std::int64_t count = spec.node->token_count(i);
            if (count <= 0) continue;
            const int v = spec.inputs[i];
            if (static_cast<std::size_t>(v) >= n_in) {
                throw std::invalid_argument("node " + std::to_string(k) + " (" +
                                            spec.node->describe() + ") reads tokens from value " +
                                            std::to_string(v) + ", which is not a model input");
            }
            std::int64_t& limit = token_limit_[v];
            limit = limit == 0 ? count : std::min(limit, count);
        }
    }
    // needs_grad: forward; reaches_loss: backward from the heads.
    for (std::size_t k = 0; k < nodes_.size(); ++k) {
        bool needs = has_trainable[k];
        for (int v : nodes_[k].inputs) needs = needs || values_[v].needs_grad;
        values_[n_in + k].needs_grad = needs;
    }
    std::vector<int> heads_on(values_.size(), 0);
    for (const LossHead& h : heads_) {
        if (h.value < 0 || static_cast<std::size_t>(h.value) >= values_.size()) {
            throw std::invalid_argument("a loss reads value " + std::to_string(h.value) +
                                        ", which the plan does not have");
        }
        if (++heads_on[h.value] > 1) {
            throw std::invalid_argument("two losses read the same value " + std::to_string(h.value));
        }
        values_[h.value].reaches_loss = true;
    }
    for (std::size_t k = nodes_.size(); k-- > 0;) {
        if (!values_[n_in + k].reaches_loss) continue;
        for (int v : nodes_[k].inputs) values_[v].reaches_loss = true;
    }
    // Penalties: every penalized tensor once; activity penalties on values written
    // before their op.
    std::vector<bool> penalized_seen(tensors_.size(), false), read_by_penalty(values_.size(), false);
    for (const PenaltyTerm& term : penalty_order_) {
        if (term.tensor >= 0) {
            const int t = term.tensor;
            if (static_cast<std::size_t>(t) >= tensors_.size() || !tensors_[t].penalized ||
                penalized_seen[t]) {
                throw std::invalid_argument("penalty order names tensor " + std::to_string(t) +
                                            ", which has no penalty or is named twice");
            }
            penalized_seen[t] = true;
            continue;
        }
        const ActivityPenalty& a = term.activity;
        if (a.after < 0 || static_cast<std::size_t>(a.after) > nodes_.size() || a.value < 0 ||
            static_cast<std::size_t>(a.value) >= n_in + static_cast<std::size_t>(a.after)) {
            throw std::invalid_argument("an activity penalty reads value " + std::to_string(a.value) +
                                        " after " + std::to_string(a.after) +
                                        " nodes, which is not written by then");
        }
        read_by_penalty[a.value] = true;
    }
    for (std::size_t t = 0; t < tensors_.size(); ++t) {
        if (tensors_[t].penalized && !penalized_seen[t]) {
            throw std::invalid_argument("tensor " + std::to_string(t) +
                                        " has a penalty the penalty order does not name");
        }
    }
    // Fused losses: the head reads the logits of the node below its value.
    head_state_.resize(heads_.size());
    for (std::size_t h = 0; h < heads_.size(); ++h) {
        const LossHead& head = heads_[h];
        head_state_[h].weight32 = static_cast<float>(head.weight);
        const Value& v = values_[head.value];
        // A model input, a value read by a node, or a value an activity penalty reads.
        if (v.producer < 0 || v.consumers > 0 || read_by_penalty[head.value]) continue;
        Node* node = nodes_[v.producer].node.get();
        if (nn::loss_fuses(head.kind, head.from_logits, node->final_activation())) {
            node->fuse_final_activation();
            head_state_[h].fuser = node;
        }
    }
    // Storage. A view node whose input nothing else reads shares its input's memory.
    for (std::size_t k = 0; k < nodes_.size(); ++k) nodes_[k].node->reserve(max_batch_);
    for (std::size_t v = 0; v < values_.size(); ++v) {
        Value& val = values_[v];
        const std::size_t n = static_cast<std::size_t>(max_batch_ * val.width);
        const bool grad = val.needs_grad && val.reaches_loss;
        if (val.producer >= 0) {
            const NodeSpec& spec = nodes_[val.producer];
            if (spec.node->is_view() && spec.inputs.size() == 1) {
                const Value& in = values_[spec.inputs[0]];
                if (in.consumers == 1 && heads_on[spec.inputs[0]] == 0) {
                    val.y = in.y;
                    val.dy = in.dy;
                    continue;
                }
            }
        }
        val.data.resize(n);
        val.y = val.data.data();
        if (grad) {
            val.grad.resize(n);
            val.dy = val.grad.data();
        }
    }
    // Per-head batches.
    const std::size_t H = heads_.size();
    target_batch_.resize(H);
    weight_batch_.resize(H);
    labels64_batch_.resize(H);
    labels32_batch_.resize(H);
    for (std::size_t h = 0; h < H; ++h) {
        const std::size_t width = static_cast<std::size_t>(values_[heads_[h].value].width);
        const std::size_t B = static_cast<std::size_t>(max_batch_);
        if (heads_[h].kind == nn::LossKind::sparse_categorical_crossentropy) {
            const Shape& s = values_[heads_[h].value].shape;
            const std::size_t per_row = s.empty() ? 1 : static_cast<std::size_t>(width / s.back());
            labels64_batch_[h].resize(B * per_row);
            labels32_batch_[h].resize(B * per_row);
        } else {
            target_batch_[h].resize(B * width);
        }
        weight_batch_[h].resize(B);
    }
    // The contiguous gradients and the optimizer's view of them.
    ptrdiff_t total = 0;
    for (const Tensor& t : tensors_) total += t.size;
    grads_.assign(static_cast<std::size_t>(total), 0.0f);
    ptrdiff_t largest = 0;
    for (const Tensor& t : tensors_) {
        if (t.penalized) largest = std::max(largest, t.size);
    }
    for (const PenaltyTerm& term : penalty_order_) {
        if (term.tensor < 0) largest = std::max(largest, max_batch_ * values_[term.activity.value].width);
    }
    penalty_scratch_.resize(static_cast<std::size_t>(largest));
}

void GraphPlan::plan_backward() {
    const std::size_t n_in = inputs_.size();
    std::vector<bool> value_written(values_.size(), false);
    std::vector<bool> tensor_written(tensors_.size(), false);
    // The heads write the first contribution to their values (the loss op is the
    // last op the tape records).
    for (const LossHead& h : heads_) value_written[h.value] = true;
    std::vector<ptrdiff_t>& offset = grad_offset_;
    offset.assign(tensors_.size(), 0);
    for (std::size_t t = 1; t < tensors_.size(); ++t) offset[t] = offset[t - 1] + tensors_[t - 1].size;

    // Activity penalties by position, in the reverse of the order the tape recorded them.
    activity_at_.assign(nodes_.size() + 1, {});
    std::vector<const ActivityPenalty*> activity;
    for (const PenaltyTerm& term : penalty_order_) {
        if (term.tensor < 0) activity.push_back(&term.activity);
    }
    std::sort(activity.begin(), activity.end(),
              [](const ActivityPenalty* a, const ActivityPenalty* b) { return a->rank > b->rank; });
    const auto place_activity = [&](std::size_t after) {
        for (const ActivityPenalty* a : activity) {
            if (static_cast<std::size_t>(a->after) != after || !values_[a->value].dy) continue;
            activity_at_[after].push_back({a, !value_written[a->value]});
            value_written[a->value] = true;
        }
    };

    node_state_.resize(nodes_.size());
    for (std::size_t k = nodes_.size(); k-- > 0;) {
        place_activity(k + 1);
        NodeSpec& spec = nodes_[k];
        NodeState& st = node_state_[k];
        const Value& out = values_[n_in + k];
        st.in_ptrs.resize(spec.inputs.size());
        st.din_ptrs.assign(spec.inputs.size(), nullptr);
        const std::vector<Param> params = spec.node->params();
        st.dparam_ptrs.assign(params.size(), nullptr);
        st.input_targets.resize(spec.inputs.size());
        st.param_targets.resize(params.size());
        // A shared view moves nothing: its gradient is its input's buffer.
        const bool shared_view = out.y == values_[spec.inputs.empty() ? 0 : spec.inputs[0]].y &&
                                 spec.node->is_view();
        st.run_backward = out.dy != nullptr && !shared_view;
        if (!st.run_backward) {
            if (shared_view && out.dy) value_written[spec.inputs[0]] = value_written[n_in + k];
            continue;
        }
        for (std::size_t i = 0; i < spec.inputs.size(); ++i) {
            const int v = spec.inputs[i];
            Value& in = values_[v];
            if (!in.dy) continue;
            Target& target = st.input_targets[i];
            target.size = in.width;
            target.per_row = true;
            if (!value_written[v]) {
                target.direct = in.dy;
                value_written[v] = true;
            } else {
                target.scratch.resize(static_cast<std::size_t>(max_batch_ * in.width));
                target.into = in.dy;
            }
        }
        for (std::size_t p = 0; p < params.size(); ++p) {
            const int t = spec.param_index[p];
            if (t < 0) continue;
            Target& target = st.param_targets[p];
            target.size = tensors_[t].size;
            float* g = grads_.data() + offset[t];
            if (!tensor_written[t]) {
                target.direct = g;
                tensor_written[t] = true;
                if (tensors_[t].penalized) st.penalty_after.push_back(t);
            } else {
                target.scratch.resize(static_cast<std::size_t>(tensors_[t].size));
                target.into = g;
            }
        }
    }
    place_activity(0);
    // Trainable tensors: penalized ones without a data gradient get the penalty
    // alone; tensors with no gradient at all are not updated (the tape gives them
    // None, and apply_gradients skips them).
    for (std::size_t t = 0; t < tensors_.size(); ++t) {
        if (!tensor_written[t] && tensors_[t].penalized) {
            penalty_first_.push_back(static_cast<int>(t));
            tensor_written[t] = true;
        }
        if (!tensor_written[t]) continue;
        nn::OptimizerTensor<float> ot;
        ot.w = tensors_[t].weight;
        ot.g = grads_.data() + offset[t];
        for (int s = 0; s < 3; ++s) ot.slot[s] = tensors_[t].slot[s];
        ot.n = tensors_[t].size;
        ot.ema = tensors_[t].ema;
        update_tensors_.push_back(ot);
        decays_.push_back(tensors_[t].weight_decay);
    }
}

void GraphPlan::gather(const RunArgs& a, ptrdiff_t start, ptrdiff_t rows) {
    const std::int64_t* idx = a.indices + start;
    for (std::size_t v = 0; v < inputs_.size(); ++v) {
        nn::gather_rows(a.inputs[v], sizeof(float) * static_cast<std::size_t>(values_[v].width),
                        idx, rows, values_[v].y);
    }
    for (std::size_t h = 0; h < heads_.size(); ++h) {
        const Value& val = values_[heads_[h].value];
        if (a.targets[h]) {
            nn::gather_rows(a.targets[h], sizeof(float) * static_cast<std::size_t>(val.width), idx,
                            rows, target_batch_[h].data());
        } else {
            const std::size_t per_row =
                val.shape.empty() ? 1 : static_cast<std::size_t>(val.width / val.shape.back());
            if (a.labels_i64[h]) {
                nn::gather_rows(a.labels_i64[h], sizeof(std::int64_t) * per_row, idx, rows,
                                labels64_batch_[h].data());
            } else {
                nn::gather_rows(a.labels_i32[h], sizeof(std::int32_t) * per_row, idx, rows,
                                labels32_batch_[h].data());
            }
        }
        if (a.sample_weights[h]) {
            nn::gather_rows(a.sample_weights[h], sizeof(float), idx, rows, weight_batch_[h].data());
        }
    }
}

float GraphPlan::forward_and_loss(const RunArgs& a, const StepContext& ctx, ptrdiff_t start,
                                  bool want_predictions, float* head_losses) {
    const std::size_t n_in = inputs_.size();
    for (std::size_t k = 0; k < nodes_.size(); ++k) {
        NodeSpec& spec = nodes_[k];
        NodeState& st = node_state_[k];
        Value& out = values_[n_in + k];
        if (spec.node->is_view() && out.y == values_[spec.inputs[0]].y) continue;
        for (std::size_t i = 0; i < spec.inputs.size(); ++i) st.in_ptrs[i] = values_[spec.inputs[i]].y;
        spec.node->forward(ctx, st.in_ptrs.data(), out.y);
    }
    float total = 0.0f;
    for (std::size_t h = 0; h < heads_.size(); ++h) {
        const LossHead& head = heads_[h];
        const HeadState& hs = head_state_[h];
        Value& val = values_[head.value];
        const ptrdiff_t cols = val.shape.empty() ? 1 : val.shape.back();
        nn::LossProblem<float> p;
        p.kind = head.kind;
        p.batch = ctx.rows;
        p.rows = ctx.rows * (val.width / cols);
        p.cols = cols;
        p.delta = head.delta;
        p.from_logits = head.from_logits || hs.fuser != nullptr;
        if (hs.fuser) {
            p.y_pred = hs.fuser->logits(node_state_[val.producer].in_ptrs.data());
        } else {
            p.y_pred = val.y;
        }
        p.grad = val.dy;  // the first contribution to this value's gradient
        if (head.kind == nn::LossKind::sparse_categorical_crossentropy) {
            if (a.labels_i64[h]) p.labels_i64 = labels64_batch_[h].data();
            else p.labels_i32 = labels32_batch_[h].data();
        } else {
            p.y_true = target_batch_[h].data();
        }
        p.sample_weight = a.sample_weights[h] ? weight_batch_[h].data() : nullptr;
        const float value = static_cast<float>(nn::loss(p));
        head_losses[h] = value;
        float weighted = value;
        if (head.weight != 1.0) {
            weighted = value * hs.weight32;
            if (p.grad) scale(p.grad, hs.weight32, ctx.rows * val.width);
        }
        total = h == 0 ? weighted : total + weighted;
        if (want_predictions && a.predictions[h]) {
            std::memcpy(a.predictions[h] + (start - a.first) * val.width, val.y,
                        sizeof(float) * static_cast<std::size_t>(ctx.rows * val.width));
        }
    }
    for (const PenaltyTerm& term : penalty_order_) {
        if (term.tensor >= 0) {
            const Tensor& t = tensors_[term.tensor];
            total = total + nn::penalty_value(t.penalty, t.weight, t.size);
        } else {  // the tape's ops.divide(penalty, float(rows)), in float32
            const ActivityPenalty& a = term.activity;
            const Value& val = values_[a.value];
            const float penalty = nn::penalty_value(a.penalty, val.y, ctx.rows * val.width);
            total = total + penalty / static_cast<float>(ctx.rows);
        }
    }
    return total;
}

void GraphPlan::backward(const StepContext& ctx) {
    const std::size_t n_in = inputs_.size();
    for (int t : penalty_first_) {
        nn::penalty_gradient(tensors_[t].penalty, tensors_[t].weight,
                             grads_.data() + grad_offset_[t], tensors_[t].size);
    }
    for (std::size_t k = nodes_.size(); k-- > 0;) {
        activity_gradients(ctx, k + 1);
        NodeState& st = node_state_[k];
        if (!st.run_backward) continue;
        NodeSpec& spec = nodes_[k];
        Value& out = values_[n_in + k];
        for (std::size_t i = 0; i < spec.inputs.size(); ++i) {
            st.in_ptrs[i] = values_[spec.inputs[i]].y;
            Target& tg = st.input_targets[i];
            st.din_ptrs[i] = tg.direct ? tg.direct : (tg.into ? tg.scratch.data() : nullptr);
        }
        for (std::size_t p = 0; p < st.param_targets.size(); ++p) {
            Target& tg = st.param_targets[p];
            st.dparam_ptrs[p] = tg.direct ? tg.direct : (tg.into ? tg.scratch.data() : nullptr);
        }
        spec.node->backward(ctx, st.in_ptrs.data(), out.y, out.dy, st.din_ptrs.data(),
                            st.dparam_ptrs.data());
        for (Target& tg : st.input_targets) {
            if (tg.into) add_into(tg.into, tg.scratch.data(), ctx.rows * tg.size);
        }
        for (Target& tg : st.param_targets) {
            if (tg.into) add_into(tg.into, tg.scratch.data(), tg.size);
        }
        for (int t : st.penalty_after) {
            const Tensor& tensor = tensors_[t];
            nn::penalty_gradient(tensor.penalty, tensor.weight, penalty_scratch_.data(), tensor.size);
            for (std::size_t p = 0; p < st.param_targets.size(); ++p) {
                if (spec.param_index[p] == t) {
                    add_into(st.param_targets[p].direct, penalty_scratch_.data(), tensor.size);
                }
            }
        }
    }
    activity_gradients(ctx, 0);
}

// The gradients of the activity penalties the tape recorded after `after` nodes: the
// penalty's gradient times the upstream 1 / rows (the tape's `grad * upstream`, skipped
// when it is 1), written or added into the value's gradient.
void GraphPlan::activity_gradients(const StepContext& ctx, std::size_t after) {
    for (const ActivityState& st : activity_at_[after]) {
        const Value& val = values_[st.term->value];
        const ptrdiff_t n = ctx.rows * val.width;
        float* g = st.first ? val.dy : penalty_scratch_.data();
        nn::penalty_gradient(st.term->penalty, val.y, g, n);
        if (ctx.rows != 1) scale(g, 1.0f / static_cast<float>(ctx.rows), n);
        if (!st.first) add_into(val.dy, g, n);
    }
}

void GraphPlan::update(double learning_rate, long long step) {
    nn::apply_update(rule_, update_tensors_.data(), decays_.data(),
                     static_cast<ptrdiff_t>(update_tensors_.size()), learning_rate, step);
}

void GraphPlan::run(const RunArgs& a) {
    bool want_predictions = false;
    for (float* p : a.predictions) want_predictions = want_predictions || p != nullptr;
    for (std::size_t h = 0; h < heads_.size(); ++h) {
        if (head_state_[h].fuser) head_state_[h].fuser->set_want_output(a.predictions[h] != nullptr);
    }
    for (std::size_t d = 0; d < drawing_.size(); ++d) nodes_[drawing_[d]].node->set_draws(a.draws[d]);
    const std::size_t H = heads_.size();
    for (ptrdiff_t k = 0; k < a.steps; ++k) {
        const ptrdiff_t start = a.first + k * a.batch_size;
        StepContext ctx;
        ctx.rows = std::min(a.batch_size, a.num_indices - start);
        ctx.call_row = k * a.batch_size;
        ctx.training = true;
        gather(a, start, ctx.rows);
        float* losses = a.losses + k * static_cast<ptrdiff_t>(1 + H);
        losses[0] = forward_and_loss(a, ctx, start, want_predictions, losses + 1);
        backward(ctx);
        if (a.gradient_hook) a.gradient_hook(grads_.data(), gradient_size(), ctx.rows);
        update(a.learning_rates[k], a.iterations + k + 1);
    }
}

}  // namespace pydl::plan
