// _core.plan: the fused training step of a model graph (plan/graph_plan.h).
//
// Python describes the graph with typed objects -- node specs (bind_plan_nodes.cpp),
// Call (a node with its input values and its tensors' trainable indices), LossHead,
// TrainableTensor and the optimizer's UpdateRule -- and Plan checks them once and
// keeps every array it writes alive. `run` checks its data, then runs all its steps
// with the GIL released (taken back only for a gradient hook).
#include <array>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <pybind11/stl.h>

#include "bindings/array_checks.h"
#include "bindings/bindings.h"
#include "bindings/update_rule.h"
#include "nn/gather.h"
#include "nn/loss.h"
#include "nn/tokens.h"
#include "plan/graph_plan.h"

namespace pydl::bind {

namespace {

using std::ptrdiff_t;

struct Call {
    std::shared_ptr<plan::Node> node;
    std::vector<int> inputs;
    std::vector<int> params;
    py::object keep;  // the Python node object (it keeps the node's arrays alive)
};

struct PyTensor {
    py::array weight;
    py::object slots;
    py::object ema;
    double weight_decay = 0.0;
    double l1 = 0.0, l2 = 0.0;
    bool penalized = false;
};

std::string num(double v) { return py::str(py::float_(v)).cast<std::string>(); }

template <class T>
py::array data_array(const py::handle& obj, const std::string& name) {
    py::array a = require_array(obj, name.c_str());
    require_dtype<T>(a, name.c_str());
    require_contiguous(a, name.c_str());
    return a;
}

py::array output_array(const py::handle& obj, const std::string& name,
                       std::initializer_list<py::ssize_t> shape) {
    py::array a = data_array<float>(obj, name);
    require_writeable(a, name.c_str());
    require_shape(a, name.c_str(), shape);
    return a;
}

template <class L>
void check_labels(const L* labels, ptrdiff_t per_row, const std::int64_t* used, ptrdiff_t rows,
                  ptrdiff_t classes, const std::string& name) {
    for (ptrdiff_t i = 0; i < rows; ++i) {
        const L* row = labels + used[i] * per_row;
        const ptrdiff_t bad = nn::find_bad_label(row, per_row, classes);
        if (bad >= 0) {
            throw py::value_error(name + ": expected class indices in [0, " +
                                  std::to_string(classes) + ") (the model's outputs), received " +
                                  std::to_string(static_cast<long long>(row[bad])) +
                                  " for sample " + std::to_string(used[i]));
        }
    }
}

class PyPlan {
public:
    PyPlan(const std::vector<std::vector<ptrdiff_t>>& input_shapes, const py::list& calls,
           const py::list& heads, const py::list& tensors, const py::list& penalty_order,
           const nn::UpdateRule& rule, ptrdiff_t max_batch) {
        if (max_batch < 1) {
            throw py::value_error("max_batch: expected an int >= 1, received " +
                                  std::to_string(max_batch));
        }
        std::vector<plan::InputSpec> inputs;
        for (const auto& s : input_shapes) {
            for (ptrdiff_t d : s) {
                if (d < 1) throw py::value_error("inputs: expected dimensions >= 1");
            }
            inputs.push_back({s});
        }
        std::vector<plan::NodeSpec> nodes;
        for (size_t k = 0; k < calls.size(); ++k) {
            const std::string name = "calls[" + std::to_string(k) + "]";
            if (!py::isinstance<Call>(calls[k])) {
                throw py::type_error(name + ": expected a _core.plan.Call");
            }
            const Call& c = calls[k].cast<const Call&>();
            nodes.push_back({c.node, c.inputs, c.params});
            keep_.append(calls[k]);
        }
        std::vector<plan::LossHead> hs;
        for (size_t h = 0; h < heads.size(); ++h) {
            if (!py::isinstance<plan::LossHead>(heads[h])) {
                throw py::type_error("heads[" + std::to_string(h) + "]: expected a _core.plan.LossHead");
            }
            hs.push_back(heads[h].cast<plan::LossHead>());
            head_values_.push_back(hs.back().value);
            sparse_heads_.push_back(hs.back().kind == nn::LossKind::sparse_categorical_crossentropy);
        }
        std::vector<plan::Tensor> ts;
        std::vector<py::array> arrays;  // every weight and slot, for the overlap check
        for (size_t t = 0; t < tensors.size(); ++t) {
            const std::string name = "tensors[" + std::to_string(t) + "]";
            if (!py::isinstance<PyTensor>(tensors[t])) {
                throw py::type_error(name + ": expected a _core.plan.TrainableTensor");
            }
            const PyTensor& pt = tensors[t].cast<const PyTensor&>();
            plan::Tensor tensor;
            tensor.weight = static_cast<float*>(pt.weight.request().ptr);
            tensor.size = pt.weight.size();
            std::array<py::object, 3> slots;
            check_slots(rule, pt.weight, pt.slots, name + ".slots", slots);
            arrays.push_back(pt.weight);
            for (int s = 0; s < 3; ++s) {
                if (slots[s].is_none()) continue;
                py::array a = slots[s].cast<py::array>();
                tensor.slot[s] = mutable_data<float>(a);
                arrays.push_back(a);
            }
            if (!pt.ema.is_none()) {
                py::array e = pt.ema.cast<py::array>();
                tensor.ema = mutable_data<float>(e);
                arrays.push_back(e);
            }
            tensor.weight_decay = pt.weight_decay;
            tensor.penalized = pt.penalized;
            tensor.penalty = {pt.l1, pt.l2};
            ts.push_back(tensor);
            keep_.append(tensors[t]);
        }
        // Every array is read and written in one pass: none may share memory.
        for (size_t i = 0; i < arrays.size(); ++i) {
            for (size_t j = i + 1; j < arrays.size(); ++j) {
                require_no_overlap(arrays[i], "a weight or slot", arrays[j], "another weight or slot");
            }
        }
        weights_ = arrays;
        std::vector<plan::PenaltyTerm> order;
        for (size_t i = 0; i < penalty_order.size(); ++i) {
            plan::PenaltyTerm term;
            if (py::isinstance<plan::ActivityPenalty>(penalty_order[i])) {
                term.activity = penalty_order[i].cast<plan::ActivityPenalty>();
            } else if (py::isinstance<py::int_>(penalty_order[i])) {
                term.tensor = penalty_order[i].cast<int>();
                if (term.tensor < 0) {
                    throw py::value_error("penalty_order[" + std::to_string(i) +
                                          "]: expected a tensor index >= 0, received " +
                                          std::to_string(term.tensor));
                }
            } else {
                throw py::type_error("penalty_order[" + std::to_string(i) +
                                     "]: expected a tensor index or a _core.plan.ActivityPenalty");
            }
            order.push_back(term);
        }
        try {
            plan_ = std::make_unique<plan::GraphPlan>(std::move(inputs), std::move(nodes),
                                                      std::move(hs), std::move(ts),
                                                      std::move(order), rule, max_batch);
        } catch (const std::invalid_argument& e) {
            throw py::value_error(std::string("Plan: ") + e.what());
        }
    }

    void run(const py::sequence& inputs_obj, const py::sequence& targets_obj,
             const py::sequence& weights_obj, const py::object& indices_obj, ptrdiff_t first,
             ptrdiff_t batch_size, ptrdiff_t steps, const py::object& lr_obj, long long iterations,
             const py::object& losses_obj, const py::sequence& predictions_obj,
             const py::sequence& draws_obj, const py::object& hook) {
        plan::GraphPlan& p = *plan_;
        plan::RunArgs a;
        const size_t I = p.num_inputs(), H = p.num_heads();
        if (inputs_obj.size() != I || targets_obj.size() != H || weights_obj.size() != H ||
            predictions_obj.size() != H || draws_obj.size() != p.drawing_nodes().size()) {
            throw py::value_error("run: expected " + std::to_string(I) + " inputs, " +
                                  std::to_string(H) + " targets, sample weights and predictions, "
                                  "and " + std::to_string(p.drawing_nodes().size()) + " draws");
        }
        std::vector<py::array> held;
        ptrdiff_t n = -1;
        for (size_t v = 0; v < I; ++v) {
            const std::string name = "inputs[" + std::to_string(v) + "]";
            py::array x = data_array<float>(inputs_obj[v], name);
            const ptrdiff_t width = p.value_width(static_cast<int>(v));
            if (x.ndim() < 1 || x.size() != x.shape(0) * width || (n >= 0 && x.shape(0) != n)) {
                throw py::value_error(name + ": expected " + (n >= 0 ? std::to_string(n) : "N") +
                                      " samples of " + std::to_string(width) + " values, received " +
                                      shape_str(x));
            }
            n = x.shape(0);
            a.inputs.push_back(const_data<float>(x));
            held.push_back(x);
        }
        py::array indices = data_array<std::int64_t>(indices_obj, "indices");
        require_ndim(indices, "indices", 1);
        a.indices = const_data<std::int64_t>(indices);
        a.num_indices = indices.shape(0);
        if (batch_size < 1 || batch_size > p.max_batch()) {
            throw py::value_error("batch_size: expected an int in [1, " +
                                  std::to_string(p.max_batch()) + "] (the plan's max_batch), "
                                  "received " + std::to_string(batch_size));
        }
        if (steps < 1) throw py::value_error("steps: expected an int >= 1, received " + std::to_string(steps));
        if (first < 0 || first + (steps - 1) * batch_size >= a.num_indices) {
            throw py::value_error("first: expected every one of the " + std::to_string(steps) +
                                  " steps of " + std::to_string(batch_size) +
                                  " to start inside indices (" + std::to_string(a.num_indices) +
                                  " entries), received first=" + std::to_string(first));
        }
        a.first = first;
        a.batch_size = batch_size;
        a.steps = steps;
        const ptrdiff_t rows = std::min(a.num_indices, first + steps * batch_size) - first;
        const std::int64_t* used = a.indices + first;
        const ptrdiff_t bad = nn::find_bad_index(used, rows, n);
        if (bad >= 0) {
            throw py::value_error("indices: expected sample positions in [0, " + std::to_string(n) +
                                  "), received " + std::to_string(used[bad]) + " at position " +
                                  std::to_string(first + bad));
        }
        // Token inputs: the rows this call reads, before any step (a node indexes with them).
        for (size_t v = 0; v < I; ++v) {
            const std::int64_t limit = p.input_token_limit(v);
            if (limit <= 0) continue;
            const ptrdiff_t width = p.value_width(static_cast<int>(v));
            for (ptrdiff_t i = 0; i < rows; ++i) {
                const float* row = a.inputs[v] + used[i] * width;
                const ptrdiff_t at = nn::find_bad_token_value(row, width, limit);
                if (at >= 0) {
                    throw py::value_error("inputs[" + std::to_string(v) +
                                          "]: expected tokens in [0, " + std::to_string(limit) +
                                          "), received " + num(row[at]) +
                                          " for sample " + std::to_string(used[i]) + " at " +
                                          std::to_string(at));
                }
            }
        }
        a.targets.assign(H, nullptr);
        a.labels_i64.assign(H, nullptr);
        a.labels_i32.assign(H, nullptr);
        a.sample_weights.assign(H, nullptr);
        a.predictions.assign(H, nullptr);
        for (size_t h = 0; h < H; ++h) {
            const std::string name = "targets[" + std::to_string(h) + "]";
            const plan::Shape& shape = p.value_shape(head_values_[h]);
            const ptrdiff_t width = p.head_width(h);
            const ptrdiff_t classes = shape.empty() ? 1 : shape.back();
            py::array y = require_array(targets_obj[h], name.c_str());
            require_contiguous(y, name.c_str());
            if (sparse_head(h)) {
                const ptrdiff_t per_row = width / classes;
                const bool i64 = y.dtype().equal(py::dtype::of<std::int64_t>());
                if (!i64 && !y.dtype().equal(py::dtype::of<std::int32_t>())) {
                    throw py::type_error(name + ": expected int32 or int64 class indices, received " +
                                         dtype_str(y));
                }
                if (y.ndim() < 1 || y.shape(0) != n || y.size() != n * per_row) {
                    throw py::value_error(name + ": expected class indices for " + std::to_string(n) +
                                          " samples (" + std::to_string(per_row) +
                                          " each), received " + shape_str(y));
                }
                if (i64) {
                    a.labels_i64[h] = const_data<std::int64_t>(y);
                    check_labels(a.labels_i64[h], per_row, used, rows, classes, name);
                } else {
                    a.labels_i32[h] = const_data<std::int32_t>(y);
                    check_labels(a.labels_i32[h], per_row, used, rows, classes, name);
                }
            } else {
                require_dtype<float>(y, name.c_str());
                if (y.ndim() < 1 || y.shape(0) != n || y.size() != n * width) {
                    throw py::value_error(name + ": expected targets of " + std::to_string(n) +
                                          " samples of " + std::to_string(width) +
                                          " values, received " + shape_str(y));
                }
                a.targets[h] = const_data<float>(y);
            }
            held.push_back(y);
            if (!weights_obj[h].is_none()) {
                const std::string wn = "sample_weights[" + std::to_string(h) + "]";
                py::array sw = data_array<float>(weights_obj[h], wn);
                require_shape(sw, wn.c_str(), {n});
                a.sample_weights[h] = const_data<float>(sw);
                held.push_back(sw);
            }
            if (!predictions_obj[h].is_none()) {
                const std::string pn = "predictions[" + std::to_string(h) + "]";
                py::array pred = output_array(predictions_obj[h], pn, {rows, width});
                for (const py::array& x : held) require_no_overlap(pred, pn.c_str(), x, "the data");
                for (const py::array& w : weights_) require_no_overlap(pred, pn.c_str(), w, "a weight or slot");
                a.predictions[h] = mutable_data<float>(pred);
            }
        }
        for (size_t d = 0; d < p.drawing_nodes().size(); ++d) {
            const std::string name = "draws[" + std::to_string(d) + "]";
            py::array u = data_array<float>(draws_obj[d], name);
            require_shape(u, name.c_str(), {rows, p.node_draws_per_row(p.drawing_nodes()[d])});
            a.draws.push_back(const_data<float>(u));
            held.push_back(u);
        }
        py::array lr = data_array<double>(lr_obj, "learning_rates");
        require_shape(lr, "learning_rates", {steps});
        a.learning_rates = const_data<double>(lr);
        if (iterations < 0) {
            throw py::value_error("iterations: expected an int >= 0, received " + std::to_string(iterations));
        }
        a.iterations = iterations;
        py::array losses = output_array(losses_obj, "losses", {steps, static_cast<py::ssize_t>(1 + H)});
        for (const py::array& w : weights_) require_no_overlap(losses, "losses", w, "a weight or slot");
        a.losses = mutable_data<float>(losses);
        if (!hook.is_none()) {
            if (!PyCallable_Check(hook.ptr())) {
                throw py::type_error("gradient_hook: expected a callable or None");
            }
            py::array grads(py::dtype::of<float>(), {p.gradient_size()}, {sizeof(float)},
                            p.gradients(), py::cast(this, py::return_value_policy::reference));
            a.gradient_hook = [hook, grads](float*, ptrdiff_t, ptrdiff_t step_rows) {
                py::gil_scoped_acquire acquire;
                hook(grads, step_rows);
            };
        }
        std::unique_lock<std::mutex> lock(p.mutex(), std::try_to_lock);
        if (!lock.owns_lock()) {
            throw std::runtime_error("Plan.run: this plan is already running in another thread");
        }
        py::gil_scoped_release release;
        p.run(a);
    }

    py::array gradients() {
        plan::GraphPlan& p = *plan_;
        return py::array(py::dtype::of<float>(), {p.gradient_size()}, {sizeof(float)},
                         p.gradients(), py::cast(this, py::return_value_policy::reference));
    }

    void update(double learning_rate, long long iterations) {
        if (iterations < 0) {
            throw py::value_error("iterations: expected an int >= 0, received " + std::to_string(iterations));
        }
        plan::GraphPlan& p = *plan_;
        std::unique_lock<std::mutex> lock(p.mutex(), std::try_to_lock);
        if (!lock.owns_lock()) {
            throw std::runtime_error("Plan.update: this plan is already running in another thread");
        }
        py::gil_scoped_release release;
        p.apply_update(learning_rate, iterations + 1);
    }

    const plan::GraphPlan& plan() const { return *plan_; }

private:
    bool sparse_head(size_t h) const { return sparse_heads_[h]; }

    std::vector<int> head_values_;
    std::vector<bool> sparse_heads_;
    std::unique_ptr<plan::GraphPlan> plan_;
    py::list keep_;                  // calls and tensors: their arrays live as long as the plan
    std::vector<py::array> weights_;
};

}  // namespace

void bind_plan(py::module_& m) {
    py::module_ pm = m.def_submodule("plan", "The fused training step of a model graph.");
    bind_plan_nodes(pm);

    py::class_<Call>(pm, "Call", "Call(node, inputs, params): a node reading the values "
                                 "`inputs`; params[k] is the trainable index of the node's k-th "
                                 "tensor, or -1 for a frozen one.")
        .def(py::init([](const py::object& node, std::vector<int> inputs, std::vector<int> params) {
                 if (!py::isinstance<plan::Node>(node)) {
                     throw py::type_error("node: expected a _core.plan node spec");
                 }
                 Call c;
                 c.node = node.cast<std::shared_ptr<plan::Node>>();
                 c.inputs = std::move(inputs);
                 c.params = std::move(params);
                 c.keep = node;
                 return c;
             }),
             py::arg("node"), py::arg("inputs"), py::arg("params"));

    py::class_<plan::LossHead>(pm, "LossHead",
                               "LossHead(value, kind, *, from_logits=False, delta=1.0, weight=1.0)")
        .def(py::init([](int value, const std::string& kind, bool from_logits, double delta,
                         double weight) {
                 plan::LossHead h;
                 h.value = value;
                 if (!nn::parse_loss(kind, &h.kind)) {
                     throw py::value_error("kind: expected one of " + std::string(nn::loss_names()) +
                                           ", received '" + kind + "'");
                 }
                 if (h.kind == nn::LossKind::huber && !(delta > 0.0)) {
                     throw py::value_error("delta: expected a positive number, received " + num(delta));
                 }
                 if (!std::isfinite(weight)) {
                     throw py::value_error("weight: expected a finite loss weight, received " + num(weight));
                 }
                 h.from_logits = from_logits;
                 h.delta = delta;
                 h.weight = weight;
                 return h;
             }),
             py::arg("value"), py::arg("kind"), py::kw_only(), py::arg("from_logits") = false,
             py::arg("delta") = 1.0, py::arg("weight") = 1.0);

    py::class_<plan::ActivityPenalty>(
        pm, "ActivityPenalty",
        "ActivityPenalty(value, after, rank, l1, l2): the penalty l1 * sum(|v|) + l2 * sum(v * v) "
        "of value `v`, divided by the step's rows, that the tape records after the first `after` "
        "calls ran (an activity regularizer); `rank`: its place among the activity penalties in "
        "call order.")
        .def(py::init([](int value, int after, int rank, double l1, double l2) {
                 if (value < 0 || after < 0 || rank < 0) {
                     throw py::value_error("value, after, rank: expected ints >= 0, received " +
                                           std::to_string(value) + ", " + std::to_string(after) +
                                           ", " + std::to_string(rank));
                 }
                 if (!(l1 >= 0.0) || !(l2 >= 0.0) || !std::isfinite(l1) || !std::isfinite(l2)) {
                     throw py::value_error("l1, l2: expected finite factors >= 0, received " +
                                           num(l1) + ", " + num(l2));
                 }
                 plan::ActivityPenalty a;
                 a.value = value;
                 a.after = after;
                 a.rank = rank;
                 a.penalty = {l1, l2};
                 return a;
             }),
             py::arg("value"), py::arg("after"), py::arg("rank"), py::arg("l1"), py::arg("l2"));

    py::class_<PyTensor>(pm, "TrainableTensor",
                         "TrainableTensor(weight, slots, *, weight_decay=0.0, penalty=None, "
                         "ema=None): a float32 weight, its 3 optimizer slots (None where unused), "
                         "its L1/L2 penalty (l1, l2) or None, and its moving average (use_ema).")
        .def(py::init([](const py::object& weight, const py::object& slots, double weight_decay,
                         const py::object& penalty, const py::object& ema) {
                 PyTensor t;
                 t.weight = data_array<float>(weight, "weight");
                 require_writeable(t.weight, "weight");
                 t.slots = slots;
                 t.ema = ema;
                 if (!ema.is_none()) {
                     py::array e = data_array<float>(ema, "ema");
                     require_writeable(e, "ema");
                     if (e.size() != t.weight.size()) {
                         throw py::value_error("ema: expected " + std::to_string(t.weight.size()) +
                                               " values (the weight's size), received " +
                                               shape_str(e));
                     }
                 }
                 if (!(weight_decay >= 0.0) || !std::isfinite(weight_decay)) {
                     throw py::value_error("weight_decay: expected a finite number >= 0, received " +
                                           num(weight_decay));
                 }
                 t.weight_decay = weight_decay;
                 if (!penalty.is_none()) {
                     py::tuple f = penalty.cast<py::tuple>();
                     if (f.size() != 2) throw py::value_error("penalty: expected (l1, l2) or None");
                     t.l1 = f[0].cast<double>();
                     t.l2 = f[1].cast<double>();
                     if (!(t.l1 >= 0.0) || !(t.l2 >= 0.0) || !std::isfinite(t.l1) || !std::isfinite(t.l2)) {
                         throw py::value_error("penalty: expected finite factors >= 0, received " +
                                               py::repr(penalty).cast<std::string>());
                     }
                     t.penalized = true;
                 }
                 return t;
             }),
             py::arg("weight"), py::arg("slots"), py::kw_only(), py::arg("weight_decay") = 0.0,
             py::arg("penalty") = py::none(), py::arg("ema") = py::none());

    py::class_<PyPlan>(pm, "Plan", R"doc(A fused training step for a model graph (float32).

Plan(inputs, calls, heads, tensors, penalty_order, rule, max_batch)

inputs: the per-sample shape of each model input (values 0..len(inputs)-1);
calls: Call objects in execution order, call k writing value len(inputs) + k;
heads: one LossHead per output with a loss; tensors: the TrainableTensors in
model.trainable_weights order; penalty_order: the penalties in the order they are
added to the loss (model.losses): a penalized tensor's index, or an
ActivityPenalty; rule: the optimizer's UpdateRule.)doc")
        .def(py::init<const std::vector<std::vector<ptrdiff_t>>&, const py::list&,
                      const py::list&, const py::list&, const py::list&,
                      const nn::UpdateRule&, ptrdiff_t>(),
             py::arg("inputs"), py::arg("calls"), py::arg("heads"), py::arg("tensors"),
             py::arg("penalty_order"), py::arg("rule"), py::arg("max_batch"))
        .def("run", &PyPlan::run, py::arg("inputs"), py::arg("targets"),
             py::arg("sample_weights"), py::arg("indices"), py::arg("first"),
             py::arg("batch_size"), py::arg("steps"), py::arg("learning_rates"),
             py::arg("iterations"), py::arg("losses"), py::arg("predictions"), py::arg("draws"),
             py::arg("gradient_hook") = py::none(),
             R"doc(Runs `steps` training steps.

Step k trains on the samples indices[first + k*batch_size : first + (k+1)*batch_size]
(the last may be shorter) of the model inputs (samples, *shape) float32 and, per
head, its targets (dense float32, or int32/int64 class indices for the sparse loss)
and sample weights ((samples,) float32 or None), with learning_rates[k] and the
optimizer step count iterations + k + 1. losses[k] receives the total loss then
each head's loss (float32); predictions[h], when not None, the outputs of head h
for every step's rows. draws: per drawing node, (rows of all steps, draws per row)
float32. gradient_hook(grads, rows), when given, is called after each backward
with the contiguous float32 gradients (writable: the update reads them after).)doc")
        .def("update", &PyPlan::update, py::arg("learning_rate"), py::arg("iterations"),
             R"doc(Applies the optimizer update alone, with the gradients now in `gradients`,
the learning rate and the step count iterations + 1 (as a step of `run` after its
gradient hook): a data-parallel step in which this process has no rows.)doc")
        .def_property_readonly("max_batch", [](const PyPlan& p) { return p.plan().max_batch(); })
        .def_property_readonly("gradients", &PyPlan::gradients,
                               "The contiguous gradients of the last step (a view).")
        .def("head_fused", [](const PyPlan& p, size_t h) { return p.plan().head_fused(h); },
             py::arg("head"))
        .def("value_shape", [](const PyPlan& p, int v) {
                 if (v < 0 || static_cast<size_t>(v) >= p.plan().num_values()) {
                     throw py::value_error("value: expected an int in [0, " +
                                           std::to_string(p.plan().num_values()) + "), received " +
                                           std::to_string(v));
                 }
                 return p.plan().value_shape(v);
             }, py::arg("value"))
        .def_property_readonly("draws_per_row", [](const PyPlan& p) {
            std::vector<ptrdiff_t> out;
            for (size_t k : p.plan().drawing_nodes()) out.push_back(p.plan().node_draws_per_row(k));
            return out;
        });
}

}  // namespace pydl::bind
