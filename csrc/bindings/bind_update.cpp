// _core.UpdateRule: an optimizer's kind, hyperparameters and clipping (nn/update.h),
// checked once, and `apply`: one update of several tensors. Optimizer.apply_gradients
// (the tape) calls it; the fused plan takes the same object.
#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "bindings/array_checks.h"
#include "bindings/bindings.h"
#include "bindings/update_rule.h"
#include "nn/update.h"

namespace pydl::bind {

namespace {

std::string num(double v) { return py::str(py::float_(v)).cast<std::string>(); }

double optional_positive(const py::object& v, const char* name) {
    if (v.is_none()) return 0.0;
    const double d = v.cast<double>();
    if (!(d > 0.0) || !std::isfinite(d)) {
        throw py::value_error(std::string(name) + ": expected a positive finite number or None, "
                              "received " + num(d));
    }
    return d;
}

void require_in(double v, double lo, double hi, const char* name) {
    if (!(v >= lo && v <= hi)) {
        throw py::value_error(std::string(name) + ": expected a number in [" + num(lo) + ", " +
                              num(hi) + "], received " + num(v));
    }
}

nn::OptimizerKind kind_arg(const std::string& kind) {
    if (kind == "sgd") return nn::OptimizerKind::sgd;
    if (kind == "adagrad") return nn::OptimizerKind::adagrad;
    if (kind == "rmsprop") return nn::OptimizerKind::rmsprop;
    if (kind == "adam") return nn::OptimizerKind::adam;
    throw py::value_error("kind: expected one of sgd, adagrad, rmsprop, adam, received '" + kind +
                          "'");
}

template <class T>
void apply_typed(const nn::UpdateRule& rule, std::vector<py::array>& weights,
                 std::vector<py::array>& grads, std::vector<std::array<py::object, 3>>& slots,
                 std::vector<py::array>& emas, const std::vector<double>& decays, double lr,
                 long long step) {
    std::vector<nn::OptimizerTensor<T>> tensors(weights.size());
    for (size_t i = 0; i < weights.size(); ++i) {
        nn::OptimizerTensor<T>& t = tensors[i];
        t.w = mutable_data<T>(weights[i]);
        t.g = const_data<T>(grads[i]);
        t.n = weights[i].size();
        for (int s = 0; s < 3; ++s) {
            if (!slots[i][s].is_none()) {
                py::array a = slots[i][s].cast<py::array>();
                t.slot[s] = mutable_data<T>(a);
            }
        }
        if (!emas.empty()) t.ema = mutable_data<T>(emas[i]);
    }
    py::gil_scoped_release release;
    nn::apply_update<T>(rule, tensors.data(), decays.data(),
                        static_cast<std::ptrdiff_t>(tensors.size()), lr, step);
}

}  // namespace

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

void check_slots(const nn::UpdateRule& rule, const py::array& w, const py::handle& slots_obj,
                 const std::string& name, std::array<py::object, 3>& out) {
    bool used[3];
    used_slots(rule.step, used);
    py::sequence seq = py::reinterpret_borrow<py::sequence>(slots_obj);
    if (!py::isinstance<py::sequence>(slots_obj) || seq.size() != 3) {
        throw py::value_error(name + ": expected 3 slot arrays (None where unused), received " +
                              py::repr(slots_obj).cast<std::string>());
    }
    for (int s = 0; s < 3; ++s) {
        out[s] = py::none();
        // adam's slot 2 (vhat) is optional: given means amsgrad.
        const bool optional = rule.step.kind == nn::OptimizerKind::adam && s == 2;
        if (!used[s] && !(optional && !seq[s].is_none())) continue;
        const std::string sname = name + "[" + std::to_string(s) + "]";
        if (seq[s].is_none()) {
            throw py::value_error(sname + ": expected the optimizer slot array, received None");
        }
        py::array a = require_array(seq[s], sname.c_str());
        require_output(a, sname.c_str(), w, "its weight");
        if (a.size() != w.size()) {
            throw py::value_error(sname + ": expected " + std::to_string(w.size()) +
                                  " values (its weight's size), received " + shape_str(a));
        }
        require_no_overlap(a, sname.c_str(), w, "its weight");
        out[s] = a;
    }
}

void bind_update(py::module_& m) {
    py::class_<nn::UpdateRule>(m, "UpdateRule", R"doc(An optimizer update rule (nn/update.h).

UpdateRule(kind, *, momentum=0.0, nesterov=False, rho=0.9, centered=False,
           beta_1=0.9, beta_2=0.999, epsilon=1e-7, clipnorm=None, clipvalue=None,
           global_clipnorm=None)

kind: sgd, adagrad, rmsprop or adam (AdamW is adam with a weight decay per tensor).
Slots per tensor, as the _core.*_step kernels name them: sgd (momentum buffer, when
momentum != 0), adagrad (accumulator), rmsprop (velocity, momentum when momentum > 0,
average gradient when centered), adam (m, v, vhat when amsgrad).)doc")
        .def(py::init([](const std::string& kind, double momentum, bool nesterov, double rho,
                         bool centered, double beta_1, double beta_2, double epsilon,
                         const py::object& clipnorm, const py::object& clipvalue,
                         const py::object& global_clipnorm, const py::object& ema_momentum,
                         const py::object& ema_overwrite_frequency) {
                 nn::UpdateRule r;
                 r.step.kind = kind_arg(kind);
                 require_in(momentum, 0.0, 1.0, "momentum");
                 require_in(rho, 0.0, 1.0, "rho");
                 require_in(beta_1, 0.0, 1.0, "beta_1");
                 require_in(beta_2, 0.0, 1.0, "beta_2");
                 require_in(epsilon, 0.0, std::numeric_limits<double>::max(), "epsilon");
                 r.step.momentum = momentum;
                 r.step.nesterov = nesterov;
                 r.step.rho = rho;
                 r.step.centered = centered;
                 r.step.beta_1 = beta_1;
                 r.step.beta_2 = beta_2;
                 r.step.epsilon = epsilon;
                 r.clipnorm = optional_positive(clipnorm, "clipnorm");
                 r.global_clipnorm = optional_positive(global_clipnorm, "global_clipnorm");
                 if ((r.clipnorm > 0) + (r.global_clipnorm > 0) + !clipvalue.is_none() > 1) {
                     throw py::value_error("only one of clipnorm, clipvalue and global_clipnorm "
                                           "may be set");
                 }
                 const double cv = optional_positive(clipvalue, "clipvalue");
                 r.step.clip_value = cv > 0.0 ? cv : std::numeric_limits<double>::infinity();
                 if (!ema_momentum.is_none()) {
                     r.ema_momentum = ema_momentum.cast<double>();
                     require_in(r.ema_momentum, 0.0, 1.0, "ema_momentum");
                 }
                 if (!ema_overwrite_frequency.is_none()) {
                     r.ema_overwrite_frequency = ema_overwrite_frequency.cast<long long>();
                     if (r.ema_overwrite_frequency < 1) {
                         throw py::value_error("ema_overwrite_frequency: expected an int >= 1 or "
                                               "None, received " +
                                               std::to_string(r.ema_overwrite_frequency));
                     }
                 }
                 return r;
             }),
             py::arg("kind"), py::kw_only(), py::arg("momentum") = 0.0,
             py::arg("nesterov") = false, py::arg("rho") = 0.9, py::arg("centered") = false,
             py::arg("beta_1") = 0.9, py::arg("beta_2") = 0.999, py::arg("epsilon") = 1e-7,
             py::arg("clipnorm") = py::none(), py::arg("clipvalue") = py::none(),
             py::arg("global_clipnorm") = py::none(), py::arg("ema_momentum") = py::none(),
             py::arg("ema_overwrite_frequency") = py::none())
        .def(
            "apply",
            [](const nn::UpdateRule& rule, const py::sequence& weights_obj,
               const py::sequence& grads_obj, const py::sequence& slots_obj,
               const py::sequence& decays_obj, double lr, long long step,
               const py::object& emas_obj) {
                const size_t n = weights_obj.size();
                if (grads_obj.size() != n || slots_obj.size() != n || decays_obj.size() != n) {
                    throw py::value_error("apply: weights, grads, slots and decays must have one "
                                          "entry per tensor (" + std::to_string(n) + ")");
                }
                if (step < 1) {
                    throw py::value_error("step: expected an int >= 1 (the 1-based iteration), "
                                          "received " + std::to_string(step));
                }
                std::vector<py::array> weights, grads;
                std::vector<std::array<py::object, 3>> slots(n);
                std::vector<double> decays;
                FloatType type = FloatType::f32;
                for (size_t i = 0; i < n; ++i) {
                    const std::string wn = "weights[" + std::to_string(i) + "]";
                    const std::string gn = "grads[" + std::to_string(i) + "]";
                    py::array w = require_array(weights_obj[i], wn.c_str());
                    const FloatType t = require_float_input(w, wn.c_str());
                    require_writeable(w, wn.c_str());
                    if (i == 0) type = t;
                    if (t != type) {
                        throw py::type_error(wn + ": expected the dtype of weights[0] (" +
                                             dtype_str(weights[0]) + "), received " + dtype_str(w));
                    }
                    py::array g = require_array(grads_obj[i], gn.c_str());
                    require_same_dtype(g, gn.c_str(), w, wn.c_str());
                    require_contiguous(g, gn.c_str());
                    if (g.size() != w.size()) {
                        throw py::value_error(gn + ": expected " + std::to_string(w.size()) +
                                              " values (its weight's size), received " +
                                              shape_str(g));
                    }
                    require_no_overlap(g, gn.c_str(), w, wn.c_str());
                    check_slots(rule, w, slots_obj[i], "slots[" + std::to_string(i) + "]", slots[i]);
                    const double d = decays_obj[i].cast<double>();
                    if (!(d >= 0.0) || !std::isfinite(d)) {
                        throw py::value_error("decays[" + std::to_string(i) +
                                              "]: expected a finite number >= 0, received " + num(d));
                    }
                    weights.push_back(w);
                    grads.push_back(g);
                    decays.push_back(d);
                }
                std::vector<py::array> emas;
                if (rule.ema_momentum >= 0.0) {
                    if (emas_obj.is_none() || py::len(emas_obj) != n) {
                        throw py::value_error("emas: the rule keeps moving averages: expected one "
                                              "array per tensor (" + std::to_string(n) + ")");
                    }
                    py::sequence seq = py::reinterpret_borrow<py::sequence>(emas_obj);
                    for (size_t i = 0; i < n; ++i) {
                        const std::string en = "emas[" + std::to_string(i) + "]";
                        py::array e = require_array(seq[i], en.c_str());
                        require_output(e, en.c_str(), weights[i], "its weight");
                        if (e.size() != weights[i].size()) {
                            throw py::value_error(en + ": expected " +
                                                  std::to_string(weights[i].size()) +
                                                  " values (its weight's size), received " +
                                                  shape_str(e));
                        }
                        require_no_overlap(e, en.c_str(), weights[i], "its weight");
                        emas.push_back(e);
                    }
                }
                if (type == FloatType::f32) {
                    apply_typed<float>(rule, weights, grads, slots, emas, decays, lr, step);
                } else {
                    apply_typed<double>(rule, weights, grads, slots, emas, decays, lr, step);
                }
            },
            py::arg("weights"), py::arg("grads"), py::arg("slots"), py::arg("decays"),
            py::arg("lr"), py::arg("step"), py::arg("emas") = py::none(),
            R"doc(One update of every tensor in place: clipping (clipnorm, global_clipnorm,
clipvalue), decoupled weight decay decays[i], then the rule, with learning rate lr
at step `step` (1-based). weights[i], grads[i] (read only) and slots[i] (3 arrays,
None where the rule uses none) share one dtype, float32 or float64. emas[i]: the
moving average of weights[i], required when the rule has an ema_momentum. The GIL
is released while it runs.)doc")
        .def_property_readonly("kind", [](const nn::UpdateRule& r) {
            switch (r.step.kind) {
                case nn::OptimizerKind::sgd: return "sgd";
                case nn::OptimizerKind::adagrad: return "adagrad";
                case nn::OptimizerKind::rmsprop: return "rmsprop";
                default: return "adam";
            }
        });
}

}  // namespace pydl::bind
