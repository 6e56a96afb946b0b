// The training rules both paths ask (nn/rules.h, nn/dropout.h, nn/penalty.h):
// _core.dense_keeps_preactivation, loss_fuses, dropout_apply, weight_penalty and
// weight_penalty_gradient. The tape's ops call these; the plan's nodes call the
// same C++ functions.
#include <cmath>
#include <string>

#include "bindings/array_checks.h"
#include "bindings/bindings.h"
#include "nn/dropout.h"
#include "nn/penalty.h"
#include "nn/rules.h"

namespace pydl::bind {

namespace {

std::string num(double v) { return py::str(py::float_(v)).cast<std::string>(); }

nn::Activation activation_arg(const std::string& name) {
    nn::Activation act;
    if (!nn::parse_activation(name, &act)) {
        throw py::value_error("activation: expected one of " + std::string(nn::activation_names()) +
                              ", received '" + name + "'");
    }
    return act;
}

nn::LossKind loss_arg(const std::string& name) {
    nn::LossKind kind;
    if (!nn::parse_loss(name, &kind)) {
        throw py::value_error("kind: expected one of " + std::string(nn::loss_names()) +
                              ", received '" + name + "'");
    }
    return kind;
}

nn::WeightPenalty penalty_arg(double l1, double l2) {
    if (!(l1 >= 0.0) || !std::isfinite(l1) || !(l2 >= 0.0) || !std::isfinite(l2)) {
        throw py::value_error("l1, l2: expected finite factors >= 0, received l1=" + num(l1) +
                              ", l2=" + num(l2));
    }
    return {l1, l2};
}

}  // namespace

void bind_rules(py::module_& m) {
    m.def(
        "dense_keeps_preactivation",
        [](const std::string& activation) {
            return nn::dense_keeps_preactivation(activation_arg(activation));
        },
        py::arg("activation"),
        "Whether a dense layer with this activation keeps its pre-activation z (a fused loss "
        "may read it as logits, or the activation's backward needs it).");
    m.def(
        "loss_fuses",
        [](const std::string& kind, bool from_logits, const std::string& activation) {
            return nn::loss_fuses(loss_arg(kind), from_logits, activation_arg(activation));
        },
        py::arg("kind"), py::arg("from_logits"), py::arg("activation"),
        "Whether loss `kind` on the output of `activation` is computed from the logits below it.");

    m.def(
        "dropout_apply",
        [](const py::object& v_obj, const py::object& u_obj, double rate, const py::object& out_obj) {
            if (!(rate >= 0.0 && rate < 1.0)) {
                throw py::value_error("rate: expected a float in [0, 1), received " + num(rate));
            }
            py::array v = require_array(v_obj, "v");
            const FloatType type = require_float_input(v, "v");
            py::array u = require_array(u_obj, "u");
            require_dtype<float>(u, "u");
            require_contiguous(u, "u");
            py::array out = require_array(out_obj, "out");
            require_output(out, "out", v, "v");
            if (u.size() != v.size() || out.size() != v.size()) {
                throw py::value_error("u, out: expected " + std::to_string(v.size()) +
                                      " values (v's size), received u " + shape_str(u) +
                                      " and out " + shape_str(out));
            }
            if (out.data() != v.data()) require_no_overlap(out, "out", v, "v");
            require_no_overlap(out, "out", u, "u");
            const float threshold = static_cast<float>(rate);
            const double scale = 1.0 / (1.0 - rate);
            const std::ptrdiff_t n = v.size();
            const float* up = const_data<float>(u);
            py::gil_scoped_release release;
            if (type == FloatType::f32) {
                nn::dropout_apply<float>(const_data<float>(v), up, threshold,
                                         static_cast<float>(scale), mutable_data<float>(out), n);
            } else {
                nn::dropout_apply<double>(const_data<double>(v), up, threshold, scale,
                                          mutable_data<double>(out), n);
            }
        },
        py::arg("v"), py::arg("u"), py::arg("rate"), py::arg("out"),
        "out = v * (float(u >= float32(rate)) * 1 / (1 - rate)): inverted dropout with the "
        "float32 uniforms u (v's size); forward (v = x) and backward (v = dy). out may be v.");

    m.def(
        "weight_penalty",
        [](const py::object& w_obj, double l1, double l2) {
            const nn::WeightPenalty p = penalty_arg(l1, l2);
            return read_float_input(w_obj, "w", [&](const auto* w, std::ptrdiff_t n) {
                return static_cast<double>(nn::penalty_value(p, w, n));
            });
        },
        py::arg("w"), py::arg("l1"), py::arg("l2"),
        "l1 * sum(|w|) + l2 * sum(w**2), sums in double over fixed blocks, rounded to w's "
        "dtype (returned as a Python float holding that value).");
    m.def(
        "weight_penalty_gradient",
        [](const py::object& w_obj, double l1, double l2, const py::object& out_obj) {
            const nn::WeightPenalty p = penalty_arg(l1, l2);
            py::array w = require_array(w_obj, "w");
            const FloatType type = require_float_input(w, "w");
            py::array out = require_array(out_obj, "out");
            require_output(out, "out", w, "w");
            if (out.size() != w.size()) {
                throw py::value_error("out: expected " + std::to_string(w.size()) +
                                      " values (w's size), received " + shape_str(out));
            }
            require_no_overlap(out, "out", w, "w");
            const std::ptrdiff_t n = w.size();
            py::gil_scoped_release release;
            if (type == FloatType::f32) {
                nn::penalty_gradient<float>(p, const_data<float>(w), mutable_data<float>(out), n);
            } else {
                nn::penalty_gradient<double>(p, const_data<double>(w), mutable_data<double>(out), n);
            }
        },
        py::arg("w"), py::arg("l1"), py::arg("l2"), py::arg("out"),
        "out = l1 * sign(w) + 2 * l2 * w (each term only when its factor is nonzero).");
}

}  // namespace pydl::bind
