// _core.TrainPlan: the fused training step (csrc/plan/train_plan.h).
//
// The constructor checks the layers, loss and optimizer state once and keeps a
// reference to every array the plan writes into (weights, slots), so they stay
// alive as long as the plan. `run` checks its data, then runs all its steps
// with the GIL released.
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "bindings/array_checks.h"
#include "bindings/bindings.h"
#include "nn/gather.h"
#include "nn/loss.h"
#include "plan/train_plan.h"

namespace pydl::bind {

namespace {

using nn::Activation;
using std::ptrdiff_t;

std::string to_str(double v) { return py::str(py::float_(v)).cast<std::string>(); }
std::string type_name(const py::handle& obj) {
    return py::str(py::type::of(obj).attr("__name__")).cast<std::string>();
}

Activation activation_arg(const py::handle& obj, const std::string& name) {
    if (!py::isinstance<py::str>(obj)) {
        throw py::type_error(name + ": expected an activation name (str), received " +
                             type_name(obj));
    }
    const std::string s = obj.cast<std::string>();
    Activation act;
    if (!nn::parse_activation(s, &act)) {
        throw py::value_error(name + ": expected one of " + std::string(nn::activation_names()) +
                              ", received '" + s + "'");
    }
    return act;
}

float alpha_arg(const py::handle& obj, Activation act, const std::string& name) {
    const double alpha = obj.cast<double>();
    if ((act == Activation::leaky_relu || act == Activation::elu) && !(alpha >= 0.0)) {
        throw py::value_error(name + ": expected alpha >= 0 for leaky_relu and elu, received " +
                              to_str(alpha));
    }
    return static_cast<float>(alpha);
}

// A float32 array the plan updates in place, of exactly `shape`.
py::array owned_f32(const py::handle& obj, const std::string& name,
                    std::initializer_list<py::ssize_t> shape) {
    py::array a = require_array(obj, name.c_str());
    require_dtype<float>(a, name.c_str());
    require_contiguous(a, name.c_str());
    require_writeable(a, name.c_str());
    require_shape(a, name.c_str(), shape);
    return a;
}

double number_arg(const py::handle& obj, const std::string& name) {
    if (py::isinstance<py::bool_>(obj) ||
        !(py::isinstance<py::float_>(obj) || py::isinstance<py::int_>(obj))) {
        throw py::type_error(name + ": expected a number, received " + type_name(obj));
    }
    return obj.cast<double>();
}

// (l1, l2) of a pydl.regularizers.L1L2, or None: no penalty.
plan::WeightPenalty penalty_arg(const py::handle& obj, const std::string& name) {
    plan::WeightPenalty p;
    if (obj.is_none()) return p;
    if (!py::isinstance<py::tuple>(obj) || py::len(obj) != 2) {
        throw py::value_error(name + ": expected None or (l1, l2), received " +
                              py::repr(obj).cast<std::string>());
    }
    py::tuple t = py::reinterpret_borrow<py::tuple>(obj);
    double factor[2];
    for (int k = 0; k < 2; ++k) {
        factor[k] = number_arg(t[k], name);
        if (!(factor[k] >= 0.0) || !std::isfinite(factor[k])) {
            throw py::value_error(name + ": expected factors l1, l2 finite and >= 0, received " +
                                  py::repr(obj).cast<std::string>());
        }
    }
    p.active = true;
    p.use_l1 = factor[0] != 0.0;
    p.use_l2 = factor[1] != 0.0;
    p.l1 = static_cast<float>(factor[0]);  // the weak Python scalar of multiply, as float32
    p.l2 = static_cast<float>(factor[1]);
    return p;
}

py::tuple tuple_arg(const py::handle& obj, const std::string& name) {
    if (!py::isinstance<py::tuple>(obj) && !py::isinstance<py::list>(obj)) {
        throw py::type_error(name + ": expected a tuple, received " + type_name(obj));
    }
    return py::tuple(py::reinterpret_borrow<py::object>(obj));
}

// The checked layers; `owned` receives the weight arrays, `shapes` their shapes.
std::vector<plan::LayerSpec> layers_arg(ptrdiff_t input_features, const py::list& layers,
                                        std::vector<py::array>& owned,
                                        std::vector<std::vector<py::ssize_t>>& shapes) {
    if (layers.empty()) throw py::value_error("layers: expected at least one layer, received []");
    std::vector<plan::LayerSpec> specs;
    ptrdiff_t features = input_features;
    bool any_dense = false;
    for (size_t i = 0; i < layers.size(); ++i) {
        const std::string name = "layers[" + std::to_string(i) + "]";
        py::tuple t = tuple_arg(layers[i], name);
        const std::string kind = t.size() ? py::str(t[0]).cast<std::string>() : "";
        plan::LayerSpec s;
        s.in = features;
        if (kind == "dense" && (t.size() == 5 || t.size() == 7)) {
            py::array kernel = require_array(t[1], (name + " kernel").c_str());
            require_ndim(kernel, (name + " kernel").c_str(), 2);
            const py::ssize_t units = kernel.shape(1);
            kernel = owned_f32(t[1], name + " kernel", {features, units});
            s.kind = plan::LayerKind::dense;
            s.out = units;
            s.kernel = mutable_data<float>(kernel);
            owned.push_back(kernel);
            shapes.push_back({features, units});
            if (!t[2].is_none()) {
                py::array bias = owned_f32(t[2], name + " bias", {units});
                s.bias = mutable_data<float>(bias);
                owned.push_back(bias);
                shapes.push_back({units});
            }
            s.activation = activation_arg(t[3], name + " activation");
            s.alpha = alpha_arg(t[4], s.activation, name + " alpha");
            if (t.size() == 7) {
                s.kernel_penalty = penalty_arg(t[5], name + " kernel penalty");
                s.bias_penalty = penalty_arg(t[6], name + " bias penalty");
            }
            any_dense = true;
        } else if (kind == "activation" && t.size() == 3) {
            s.kind = plan::LayerKind::activation;
            s.out = features;
            s.activation = activation_arg(t[1], name + " activation");
            s.alpha = alpha_arg(t[2], s.activation, name + " alpha");
        } else if (kind == "dropout" && t.size() == 2) {
            s.kind = plan::LayerKind::dropout;
            s.out = features;
            const double rate = number_arg(t[1], name + " rate");
            if (!(rate > 0.0 && rate < 1.0)) {
                throw py::value_error(name + " rate: expected a float in (0, 1), received " +
                                      to_str(rate));
            }
            // As pydl.ops.dropout: u >= rate compares in float32; the mask is float32.
            s.dropout_threshold = static_cast<float>(rate);
            s.dropout_scale = static_cast<float>(1.0 / (1.0 - rate));
        } else {
            throw py::value_error(name + ": expected ('dense', kernel, bias or None, activation, "
                                         "alpha[, kernel penalty, bias penalty]), ('activation', "
                                         "activation, alpha) or ('dropout', rate), received " +
                                  py::repr(layers[i]).cast<std::string>());
        }
        features = s.out;
        specs.push_back(s);
    }
    if (!any_dense) throw py::value_error("layers: expected at least one 'dense' layer");
    return specs;
}

nn::OptimizerKind optimizer_kind_arg(const std::string& kind) {
    if (kind == "sgd") return nn::OptimizerKind::sgd;
    if (kind == "adagrad") return nn::OptimizerKind::adagrad;
    if (kind == "rmsprop") return nn::OptimizerKind::rmsprop;
    if (kind == "adam") return nn::OptimizerKind::adam;
    throw py::value_error("optimizer: expected one of sgd, adagrad, rmsprop, adam, received '" +
                          kind + "'");
}

// Which slots a rule reads, as the _core.*_step bindings require them.
void used_slots(const nn::OptimizerStep& r, bool used[3]) {
    used[0] = used[1] = used[2] = false;
    switch (r.kind) {
        case nn::OptimizerKind::sgd: used[0] = r.momentum != 0.0; break;
        case nn::OptimizerKind::adagrad: used[0] = true; break;
        case nn::OptimizerKind::rmsprop:
            used[0] = true;
            used[1] = r.momentum > 0.0;
            used[2] = r.centered;
            break;
        case nn::OptimizerKind::adam: used[0] = used[1] = true; break;
    }
}

double optional_positive(const py::object& v, const char* name) {
    if (v.is_none()) return 0.0;
    const double d = v.cast<double>();
    if (!(d > 0.0) || !std::isfinite(d)) {
        throw py::value_error(std::string(name) + ": expected a positive finite number or None, "
                              "received " + to_str(d));
    }
    return d;
}

class PyTrainPlan {
public:
    PyTrainPlan(ptrdiff_t input_features, const py::list& layers, const std::string& loss,
                const std::string& optimizer, const py::list& state, ptrdiff_t max_batch,
                bool from_logits, double delta, double momentum, bool nesterov, double rho,
                bool centered, double beta_1, double beta_2, double epsilon,
                const py::object& clipnorm, const py::object& clipvalue,
                const py::object& global_clipnorm) {
        if (input_features < 1) {
            throw py::value_error("input_features: expected an int >= 1, received " +
                                  std::to_string(input_features));
        }
        if (max_batch < 1) {
            throw py::value_error("max_batch: expected an int >= 1, received " +
                                  std::to_string(max_batch));
        }
        std::vector<std::vector<py::ssize_t>> shapes;
        std::vector<plan::LayerSpec> specs = layers_arg(input_features, layers, owned_, shapes);

        plan::LossSpec ls;
        if (!nn::parse_loss(loss, &ls.kind)) {
            throw py::value_error("loss: expected one of " + std::string(nn::loss_names()) +
                                  ", received '" + loss + "'");
        }
        if (ls.kind == nn::LossKind::huber && !(delta > 0.0)) {
            throw py::value_error("delta: expected a positive number, received " + to_str(delta));
        }
        ls.from_logits = from_logits;
        ls.delta = delta;
        sparse_ = ls.kind == nn::LossKind::sparse_categorical_crossentropy;

        plan::OptimizerSpec os;
        nn::OptimizerStep& r = os.rule;
        r.kind = optimizer_kind_arg(optimizer);
        r.momentum = momentum;
        r.nesterov = nesterov;
        r.rho = rho;
        r.centered = centered;
        r.beta_1 = beta_1;
        r.beta_2 = beta_2;
        r.epsilon = epsilon;
        os.clipnorm = optional_positive(clipnorm, "clipnorm");
        os.global_clipnorm = optional_positive(global_clipnorm, "global_clipnorm");
        const double cv = optional_positive(clipvalue, "clipvalue");
        r.clip_value = cv > 0.0 ? cv : std::numeric_limits<double>::infinity();

        const size_t n_tensors = shapes.size();
        if (state.size() != n_tensors) {
            throw py::value_error("state: expected one (slot0, slot1, slot2, weight_decay) entry "
                                  "per trainable tensor (" + std::to_string(n_tensors) +
                                  "), received " + std::to_string(state.size()));
        }
        bool used[3];
        used_slots(r, used);
        const size_t weights_count = owned_.size();
        for (size_t i = 0; i < n_tensors; ++i) {
            const std::string name = "state[" + std::to_string(i) + "]";
            py::tuple t = tuple_arg(state[i], name);
            if (t.size() != 4) {
                throw py::value_error(name + ": expected (slot0, slot1, slot2, weight_decay), "
                                             "received " + std::to_string(t.size()) + " items");
            }
            plan::TensorState ts;
            for (int s = 0; s < 3; ++s) {
                // adam's slot 2 (vhat) is optional: given means amsgrad, as in _core.adam_step.
                const bool optional = r.kind == nn::OptimizerKind::adam && s == 2;
                if (!used[s] && !(optional && !t[s].is_none())) continue;
                const std::string sname = name + "[" + std::to_string(s) + "]";
                if (t[s].is_none()) {
                    throw py::value_error(sname + ": expected the optimizer slot array, received None");
                }
                py::array slot = require_array(t[s], sname.c_str());
                require_dtype<float>(slot, sname.c_str());
                require_contiguous(slot, sname.c_str());
                require_writeable(slot, sname.c_str());
                bool same = slot.ndim() == static_cast<py::ssize_t>(shapes[i].size());
                for (size_t d = 0; same && d < shapes[i].size(); ++d) same = slot.shape(d) == shapes[i][d];
                if (!same) {
                    throw py::value_error(sname + ": expected the shape of trainable tensor " +
                                          std::to_string(i) + ", received " + shape_str(slot));
                }
                ts.slot[s] = mutable_data<float>(slot);
                owned_.push_back(slot);
            }
            ts.weight_decay = t[3].cast<double>();
            os.tensors.push_back(ts);
        }
        // Every array is read and written in one pass: none may share memory.
        for (size_t i = 0; i < owned_.size(); ++i) {
            for (size_t j = i + 1; j < owned_.size(); ++j) {
                const std::string a = i < weights_count ? "weight " + std::to_string(i)
                                                        : "optimizer slot " + std::to_string(i - weights_count);
                const std::string b = j < weights_count ? "weight " + std::to_string(j)
                                                        : "optimizer slot " + std::to_string(j - weights_count);
                require_no_overlap(owned_[i], a.c_str(), owned_[j], b.c_str());
            }
        }
        plan_ = std::make_unique<plan::TrainPlan>(input_features, std::move(specs), ls,
                                                  std::move(os), max_batch);
    }

    void run(const py::object& x_obj, const py::object& y_obj, const py::object& indices_obj,
             ptrdiff_t first, ptrdiff_t batch_size, ptrdiff_t steps, const py::object& lr_obj,
             long long iterations, const py::object& losses_obj,
             const py::object& sample_weight_obj, const py::object& predictions_obj,
             const py::object& dropout_obj) {
        plan::TrainPlan& p = *plan_;
        const ptrdiff_t in = p.input_features(), out = p.output_features();
        plan::RunArgs a;

        py::array x = require_array(x_obj, "x");
        require_dtype<float>(x, "x");
        require_contiguous(x, "x");
        if (x.ndim() < 1 || x.size() != x.shape(0) * in) {
            throw py::value_error("x: expected an array of shape (samples, " + std::to_string(in) +
                                  ") (or samples of " + std::to_string(in) +
                                  " values), received " + shape_str(x));
        }
        const ptrdiff_t n = x.ndim() ? x.shape(0) : 0;
        a.x = const_data<float>(x);

        py::array y = require_array(y_obj, "y");
        require_contiguous(y, "y");
        if (sparse_) {
            const bool i64 = y.dtype().equal(py::dtype::of<std::int64_t>());
            if (!i64 && !y.dtype().equal(py::dtype::of<std::int32_t>())) {
                throw py::type_error("y: expected int32 or int64 class indices, received " +
                                     dtype_str(y));
            }
            if (y.ndim() < 1 || y.shape(0) != n || y.size() != n) {
                throw py::value_error("y: expected class indices of shape (" + std::to_string(n) +
                                      ",), received " + shape_str(y));
            }
            if (i64) a.labels_i64 = const_data<std::int64_t>(y);
            else a.labels_i32 = const_data<std::int32_t>(y);
        } else {
            require_dtype<float>(y, "y");
            if (y.ndim() < 1 || y.shape(0) != n || y.size() != n * out) {
                throw py::value_error("y: expected targets of shape (" + std::to_string(n) + ", " +
                                      std::to_string(out) + "), received " + shape_str(y));
            }
            a.y = const_data<float>(y);
        }
        if (!sample_weight_obj.is_none()) {
            py::array sw = require_array(sample_weight_obj, "sample_weight");
            require_dtype<float>(sw, "sample_weight");
            require_contiguous(sw, "sample_weight");
            require_shape(sw, "sample_weight", {n});
            a.sample_weight = const_data<float>(sw);
        }

        py::array indices = require_array(indices_obj, "indices");
        require_dtype<std::int64_t>(indices, "indices");
        require_contiguous(indices, "indices");
        require_ndim(indices, "indices", 1);
        a.indices = const_data<std::int64_t>(indices);
        a.num_indices = indices.shape(0);
        if (batch_size < 1 || batch_size > p.max_batch()) {
            throw py::value_error("batch_size: expected an int in [1, " +
                                  std::to_string(p.max_batch()) + "] (the plan's max_batch), "
                                  "received " + std::to_string(batch_size));
        }
        if (steps < 1) {
            throw py::value_error("steps: expected an int >= 1, received " + std::to_string(steps));
        }
        if (first < 0 || first + (steps - 1) * batch_size >= a.num_indices) {
            throw py::value_error("first: expected every one of the " + std::to_string(steps) +
                                  " steps of " + std::to_string(batch_size) +
                                  " to start inside indices (" + std::to_string(a.num_indices) +
                                  " entries), received first=" + std::to_string(first));
        }
        a.first = first;
        a.batch_size = batch_size;
        a.steps = steps;
        const ptrdiff_t total_rows = std::min(a.num_indices, first + steps * batch_size) - first;

        py::array lr = require_array(lr_obj, "learning_rates");
        require_dtype<double>(lr, "learning_rates");
        require_contiguous(lr, "learning_rates");
        require_shape(lr, "learning_rates", {steps});
        a.learning_rates = const_data<double>(lr);
        if (iterations < 0) {
            throw py::value_error("iterations: expected an int >= 0, received " +
                                  std::to_string(iterations));
        }
        a.iterations = iterations;

        py::array losses = require_array(losses_obj, "losses");
        require_dtype<float>(losses, "losses");
        require_contiguous(losses, "losses");
        require_writeable(losses, "losses");
        require_shape(losses, "losses", {steps});
        a.losses = mutable_data<float>(losses);
        if (!predictions_obj.is_none()) {
            py::array pred = require_array(predictions_obj, "predictions");
            require_dtype<float>(pred, "predictions");
            require_contiguous(pred, "predictions");
            require_writeable(pred, "predictions");
            require_shape(pred, "predictions", {total_rows, out});
            a.predictions = mutable_data<float>(pred);
        }
        std::vector<py::array> uniforms = dropout_arg(dropout_obj, total_rows);
        std::vector<const float*> uniform_rows;
        for (const py::array& u : uniforms) uniform_rows.push_back(const_data<float>(u));
        a.dropout_uniforms = uniform_rows.data();
        for (const py::array& w : owned_) {
            require_no_overlap(losses, "losses", w, "a weight or slot");
            if (a.predictions) require_no_overlap(py::reinterpret_borrow<py::array>(predictions_obj),
                                                  "predictions", w, "a weight or slot");
        }

        // Every row the steps read must exist, and every class index be valid.
        const std::int64_t* used = a.indices + first;
        const ptrdiff_t bad = nn::find_bad_index(used, total_rows, n);
        if (bad >= 0) {
            throw py::value_error("indices: expected sample positions in [0, " + std::to_string(n) +
                                  "), received " + std::to_string(used[bad]) + " at position " +
                                  std::to_string(first + bad));
        }
        if (sparse_) check_labels(a, used, total_rows, out);

        std::unique_lock<std::mutex> lock(p.mutex(), std::try_to_lock);
        if (!lock.owns_lock()) {
            throw std::runtime_error("TrainPlan.run: this plan is already running in another thread");
        }
        py::gil_scoped_release release;
        p.run(a);
    }

    const plan::TrainPlan& plan() const { return *plan_; }
    bool sparse() const { return sparse_; }

private:
    // The uniforms of each dropout layer for `rows` rows: checked float32
    // (rows, features) C-contiguous arrays, in layer order.
    std::vector<py::array> dropout_arg(const py::object& obj, ptrdiff_t rows) const {
        const plan::TrainPlan& p = *plan_;
        const ptrdiff_t count = p.num_dropout();
        std::vector<py::array> out;
        if (obj.is_none()) {
            if (count == 0) return out;
            throw py::value_error("dropout_uniforms: expected a list of " + std::to_string(count) +
                                  " float32 arrays (one per dropout layer), received None");
        }
        if (!py::isinstance<py::list>(obj) && !py::isinstance<py::tuple>(obj)) {
            throw py::type_error("dropout_uniforms: expected a list of float32 arrays, received " +
                                 type_name(obj));
        }
        py::sequence seq = py::reinterpret_borrow<py::sequence>(obj);
        if (static_cast<ptrdiff_t>(seq.size()) != count) {
            throw py::value_error("dropout_uniforms: expected one array per dropout layer (" +
                                  std::to_string(count) + "), received " +
                                  std::to_string(seq.size()));
        }
        for (ptrdiff_t d = 0; d < count; ++d) {
            const std::string name = "dropout_uniforms[" + std::to_string(d) + "]";
            py::array u = require_array(seq[d], name.c_str());
            require_dtype<float>(u, name.c_str());
            require_contiguous(u, name.c_str());
            require_shape(u, name.c_str(), {rows, p.dropout_features(d)});
            out.push_back(u);
        }
        return out;
    }

    static void check_labels(const plan::RunArgs& a, const std::int64_t* used, ptrdiff_t rows,
                             ptrdiff_t classes) {
        for (ptrdiff_t i = 0; i < rows; ++i) {
            const long long label = a.labels_i64 ? a.labels_i64[used[i]] : a.labels_i32[used[i]];
            if (label < 0 || label >= classes) {
                throw py::value_error("y: expected class indices in [0, " + std::to_string(classes) +
                                      ") (the model's outputs), received " + std::to_string(label) +
                                      " for sample " + std::to_string(used[i]));
            }
        }
    }

    std::unique_ptr<plan::TrainPlan> plan_;
    std::vector<py::array> owned_;  // weights then slots: alive as long as the plan
    bool sparse_ = false;
};

}  // namespace

void bind_plan(py::module_& m) {
    py::class_<PyTrainPlan>(m, "TrainPlan", R"doc(A fused training step for a chain of Dense and
Activation layers (float32): gather, forward, loss, backward and optimizer update
in one call per `steps` steps, bitwise identical to the GradientTape path.

TrainPlan(input_features, layers, loss, optimizer, state, max_batch, *,
          from_logits=False, delta=1.0, momentum=0.0, nesterov=False, rho=0.9,
          centered=False, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
          clipnorm=None, clipvalue=None, global_clipnorm=None)

layers: ('dense', kernel (in, out), bias (out,) or None, activation, alpha
[, kernel penalty, bias penalty]), ('activation', activation, alpha) or
('dropout', rate), in order. A penalty is None or the (l1, l2) factors of a
pydl.regularizers.L1L2 (added to the loss and gradients as the tape does). The kernels and biases are updated
in place. loss: a _core.loss kind. optimizer: sgd, adagrad, rmsprop or adam.
state: per trainable tensor (each kernel, then its bias) a tuple
(slot0, slot1, slot2, weight_decay) with the slots of the matching _core.*_step
(None where unused), updated in place.)doc")
        .def(py::init<ptrdiff_t, const py::list&, const std::string&, const std::string&,
                      const py::list&, ptrdiff_t, bool, double, double, bool, double, bool,
                      double, double, double, const py::object&, const py::object&,
                      const py::object&>(),
             py::arg("input_features"), py::arg("layers"), py::arg("loss"), py::arg("optimizer"),
             py::arg("state"), py::arg("max_batch"), py::kw_only(),
             py::arg("from_logits") = false, py::arg("delta") = 1.0, py::arg("momentum") = 0.0,
             py::arg("nesterov") = false, py::arg("rho") = 0.9, py::arg("centered") = false,
             py::arg("beta_1") = 0.9, py::arg("beta_2") = 0.999, py::arg("epsilon") = 1e-7,
             py::arg("clipnorm") = py::none(), py::arg("clipvalue") = py::none(),
             py::arg("global_clipnorm") = py::none())
        .def("run", &PyTrainPlan::run, py::arg("x"), py::arg("y"), py::arg("indices"),
             py::arg("first"), py::arg("batch_size"), py::arg("steps"),
             py::arg("learning_rates"), py::arg("iterations"), py::arg("losses"),
             py::arg("sample_weight") = py::none(), py::arg("predictions") = py::none(),
             py::arg("dropout_uniforms") = py::none(),
             R"doc(Runs `steps` training steps.

Step k trains on the samples indices[first + k*batch_size : first + (k+1)*batch_size]
(the last may be shorter) of x (samples, input_features) and y (dense targets
(samples, outputs) float32, or int32/int64 class indices for the sparse loss),
weighted by sample_weight (samples,) when given, with learning_rates[k] and the
optimizer step count iterations + k + 1. losses[k] receives the loss (float32);
predictions, when given, the model outputs of every step's rows, in order.
dropout_uniforms: one float32 array per dropout layer, (rows of all the steps,
features), the layer generator's generator.random(..., dtype=float32) draws:
row r masks the r-th row the steps take. The GIL is released while it runs.)doc")
        .def_property_readonly("input_features",
                               [](const PyTrainPlan& p) { return p.plan().input_features(); })
        .def_property_readonly("output_features",
                               [](const PyTrainPlan& p) { return p.plan().output_features(); })
        .def_property_readonly("max_batch", [](const PyTrainPlan& p) { return p.plan().max_batch(); })
        .def_property_readonly("fused_loss", [](const PyTrainPlan& p) { return p.plan().fused_loss(); })
        .def_property_readonly("sparse", &PyTrainPlan::sparse)
        .def_property_readonly("dropout_features", [](const PyTrainPlan& p) {
            py::list out;
            for (ptrdiff_t d = 0; d < p.plan().num_dropout(); ++d) {
                out.append(p.plan().dropout_features(d));
            }
            return out;
        }, "Features of each dropout layer, in order: the widths of its uniforms.");

    m.def(
        "weight_penalty",
        [](const py::object& w_obj, double l1, double l2, const py::object& grad_obj) {
            py::array w = require_array(w_obj, "w");
            require_dtype<float>(w, "w");
            require_contiguous(w, "w");
            py::tuple factors = py::make_tuple(l1, l2);
            const plan::WeightPenalty p = penalty_arg(factors, "l1, l2");
            if (!grad_obj.is_none()) {
                py::array g = require_array(grad_obj, "grad");
                require_dtype<float>(g, "grad");
                require_contiguous(g, "grad");
                require_writeable(g, "grad");
                if (g.size() != w.size()) {
                    throw py::value_error("grad: expected " + std::to_string(w.size()) +
                                          " values (w's size), received " + shape_str(g));
                }
                require_no_overlap(g, "grad", w, "w");
                plan::add_penalty_gradient(p, const_data<float>(w), mutable_data<float>(g), w.size());
            }
            return plan::penalty_value(p, const_data<float>(w), w.size());
        },
        py::arg("w"), py::arg("l1"), py::arg("l2"), py::arg("grad") = py::none(),
        R"doc(The penalty l1 * sum(|w|) + l2 * sum(w**2) of pydl.regularizers.L1L2 as the
GradientTape path computes it (float32 ops, NumPy's pairwise sum), bit for bit.
w: float32, C-contiguous. grad, when given (float32, w's size), receives
+= d(penalty)/dw in the tape's order of accumulation. TrainPlan uses the same code.)doc");
}

}  // namespace pydl::bind
