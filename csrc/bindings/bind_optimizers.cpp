// _core.sgd_step, adagrad_step, rmsprop_step, adam_step, sum_of_squares,
// global_norm: argument checks, then the nn/optim.h and nn/reduce.h kernels
// with the GIL released.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "bindings/array_checks.h"
#include "bindings/bindings.h"
#include "nn/optim.h"
#include "nn/reduce.h"

namespace pydl::bind {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// An optional slot argument: the Python object and the name used in messages.
struct Slot {
    py::object obj;
    const char* name;
};

void require_same_shape(const py::array& a, const char* name, const py::array& like,
                        const char* like_name) {
    bool ok = a.ndim() == like.ndim();
    for (py::ssize_t i = 0; ok && i < a.ndim(); ++i) ok = a.shape(i) == like.shape(i);
    if (!ok) {
        throw py::value_error(std::string(name) + ": expected shape " + shape_str(like) +
                              " (the shape of " + like_name + "), received " + shape_str(a));
    }
}

// Checks w, g and the given slots (None = absent), then runs one step on them.
void run_step(const nn::OptimizerStep& step, const py::object& w_obj, const py::object& g_obj,
              const Slot (&slots)[3]) {
    if (!(step.clip_value > 0.0)) {
        throw py::value_error("clip_value: expected a positive number (inf: no clipping), received " +
                              std::to_string(step.clip_value));
    }
    py::array w = require_array(w_obj, "w");
    const FloatType type = require_float_input(w, "w");
    require_writeable(w, "w");
    py::array g = require_array(g_obj, "g");
    require_same_dtype(g, "g", w, "w");
    require_contiguous(g, "g");
    require_same_shape(g, "g", w, "w");

    std::vector<std::pair<py::array, const char*>> arrays = {{w, "w"}, {g, "g"}};
    void* slot_data[3] = {nullptr, nullptr, nullptr};
    for (int i = 0; i < 3; ++i) {
        if (!slots[i].name || slots[i].obj.is_none()) continue;
        py::array s = require_array(slots[i].obj, slots[i].name);
        require_output(s, slots[i].name, w, "w");
        require_same_shape(s, slots[i].name, w, "w");
        slot_data[i] = s.mutable_data();
        arrays.emplace_back(s, slots[i].name);
    }
    // The kernels read and write every array in one pass: none may share memory.
    for (size_t i = 0; i < arrays.size(); ++i) {
        for (size_t j = i + 1; j < arrays.size(); ++j) {
            require_no_overlap(arrays[i].first, arrays[i].second, arrays[j].first, arrays[j].second);
        }
    }

    const std::ptrdiff_t n = w.size();
    if (type == FloatType::f32) {
        nn::OptimizerTensor<float> t;
        t.w = mutable_data<float>(w);
        t.g = const_data<float>(g);
        for (int i = 0; i < 3; ++i) t.slot[i] = static_cast<float*>(slot_data[i]);
        t.n = n;
        py::gil_scoped_release release;
        nn::optimizer_step(step, &t, 1);
    } else {
        nn::OptimizerTensor<double> t;
        t.w = mutable_data<double>(w);
        t.g = const_data<double>(g);
        for (int i = 0; i < 3; ++i) t.slot[i] = static_cast<double*>(slot_data[i]);
        t.n = n;
        py::gil_scoped_release release;
        nn::optimizer_step(step, &t, 1);
    }
}

void require_slot(const py::object& obj, const char* name, const char* when) {
    if (obj.is_none()) {
        throw py::value_error(std::string(name) + ": expected an array (required " + when +
                              "), received None");
    }
}

double sum_of_squares_of(const py::handle& obj, const char* name) {
    return read_float_input(obj, name, [](const auto* data, std::ptrdiff_t n) {
        return nn::sum_of_squares(data, n);
    });
}

// Arguments every step takes after its own (base-optimizer transforms).
#define PYDL_COMMON_STEP_ARGS \
    py::arg("grad_scale") = 1.0, py::arg("clip_value") = kInf, py::arg("weight_decay") = 0.0

}  // namespace

void bind_optimizers(py::module_& m) {
    m.def(
        "sgd_step",
        [](const py::object& w, const py::object& g, const py::object& m_slot, double lr,
           double momentum, bool nesterov, double grad_scale, double clip_value,
           double weight_decay) {
            if (momentum != 0.0) require_slot(m_slot, "m", "when momentum != 0");
            nn::OptimizerStep st;
            st.kind = nn::OptimizerKind::sgd;
            st.learning_rate = lr;
            st.momentum = momentum;
            st.nesterov = nesterov;
            st.grad_scale = grad_scale;
            st.clip_value = clip_value;
            st.weight_decay = weight_decay;
            run_step(st, w, g, {{m_slot, "m"}, {py::none(), nullptr}, {py::none(), nullptr}});
        },
        py::arg("w"), py::arg("g"), py::arg("m") = py::none(), py::kw_only(), py::arg("lr"),
        py::arg("momentum") = 0.0, py::arg("nesterov") = false, PYDL_COMMON_STEP_ARGS,
        R"doc(SGD step in place (Keras 3).

m None: w -= lr * g; else m = momentum * m - lr * g and
w += momentum * m - lr * g (nesterov) or w += m. Every step first scales g by
grad_scale, clips it to [-clip_value, clip_value] and applies the decoupled
weight decay w -= w * weight_decay * lr.)doc");

    m.def(
        "adagrad_step",
        [](const py::object& w, const py::object& g, const py::object& acc, double lr,
           double epsilon, double grad_scale, double clip_value, double weight_decay) {
            require_slot(acc, "acc", "by adagrad");
            nn::OptimizerStep st;
            st.kind = nn::OptimizerKind::adagrad;
            st.learning_rate = lr;
            st.epsilon = epsilon;
            st.grad_scale = grad_scale;
            st.clip_value = clip_value;
            st.weight_decay = weight_decay;
            run_step(st, w, g, {{acc, "acc"}, {py::none(), nullptr}, {py::none(), nullptr}});
        },
        py::arg("w"), py::arg("g"), py::arg("acc"), py::kw_only(), py::arg("lr"),
        py::arg("epsilon"), PYDL_COMMON_STEP_ARGS,
        "Adagrad step in place (Keras 3): acc += g*g; w -= lr*g/sqrt(acc+epsilon).");

    m.def(
        "rmsprop_step",
        [](const py::object& w, const py::object& g, const py::object& v, const py::object& mom,
           const py::object& mg, double lr, double rho, double momentum, double epsilon,
           bool centered, double grad_scale, double clip_value, double weight_decay) {
            require_slot(v, "v", "by rmsprop");
            if (momentum > 0.0) require_slot(mom, "mom", "when momentum > 0");
            if (centered) require_slot(mg, "mg", "when centered");
            nn::OptimizerStep st;
            st.kind = nn::OptimizerKind::rmsprop;
            st.learning_rate = lr;
            st.rho = rho;
            st.momentum = momentum;
            st.epsilon = epsilon;
            st.centered = centered;
            st.grad_scale = grad_scale;
            st.clip_value = clip_value;
            st.weight_decay = weight_decay;
            // Slots the settings do not use are not touched (nor checked).
            const py::object none = py::none();
            run_step(st, w, g,
                     {{v, "v"}, {momentum > 0.0 ? mom : none, "mom"}, {centered ? mg : none, "mg"}});
        },
        py::arg("w"), py::arg("g"), py::arg("v"), py::arg("mom") = py::none(),
        py::arg("mg") = py::none(), py::kw_only(), py::arg("lr"), py::arg("rho"),
        py::arg("momentum"), py::arg("epsilon"), py::arg("centered"), PYDL_COMMON_STEP_ARGS,
        R"doc(RMSprop step in place (Keras 3).

v = rho*v + (1-rho)*g*g; centered: mg = rho*mg + (1-rho)*g, den = v - mg*mg + eps,
else den = v + eps; inc = lr*g/sqrt(den); momentum > 0: mom = momentum*mom + inc,
w -= mom; else w -= inc.)doc");

    m.def(
        "adam_step",
        [](const py::object& w, const py::object& g, const py::object& m_slot,
           const py::object& v, const py::object& vhat, double lr, double beta_1, double beta_2,
           double epsilon, long long step, double grad_scale, double clip_value,
           double weight_decay) {
            require_slot(m_slot, "m", "by adam");
            require_slot(v, "v", "by adam");
            if (step < 1) {
                throw py::value_error("step: expected an int >= 1 (the 1-based iteration), received " +
                                      std::to_string(step));
            }
            nn::OptimizerStep st;
            st.kind = nn::OptimizerKind::adam;
            st.learning_rate = lr;
            st.beta_1 = beta_1;
            st.beta_2 = beta_2;
            st.epsilon = epsilon;
            st.step = step;
            st.grad_scale = grad_scale;
            st.clip_value = clip_value;
            st.weight_decay = weight_decay;
            run_step(st, w, g, {{m_slot, "m"}, {v, "v"}, {vhat, "vhat"}});
        },
        py::arg("w"), py::arg("g"), py::arg("m"), py::arg("v"), py::arg("vhat") = py::none(),
        py::kw_only(), py::arg("lr"), py::arg("beta_1"), py::arg("beta_2"), py::arg("epsilon"),
        py::arg("step"), PYDL_COMMON_STEP_ARGS,
        R"doc(Adam / AdamW step in place (Keras 3).

a = lr*sqrt(1-beta_2^t)/(1-beta_1^t) with t = step (1-based);
m += (g-m)*(1-beta_1); v += (g*g-v)*(1-beta_2); vhat given (amsgrad):
vhat = max(vhat, v), used in place of v; w -= a*m/(sqrt(v)+epsilon).
AdamW is weight_decay > 0.)doc");

    m.def(
        "sum_of_squares", [](const py::object& x) { return sum_of_squares_of(x, "x"); },
        py::arg("x"),
        "sum(x*x) accumulated in double over fixed blocks (same bits at any thread count).");

    m.def(
        "global_norm",
        [](const py::sequence& arrays) {
            double total = 0.0;
            for (size_t i = 0; i < arrays.size(); ++i) {
                const std::string name = "arrays[" + std::to_string(i) + "]";
                total += sum_of_squares_of(arrays[i], name.c_str());
            }
            return std::sqrt(total);
        },
        py::arg("arrays"), "sqrt of the sum of sum_of_squares over the arrays, in list order.");
}

}  // namespace pydl::bind
