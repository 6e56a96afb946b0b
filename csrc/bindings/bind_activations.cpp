// pydl._core: activation forward/backward and vector math (docs/core_api.md).
//
// The threaded drivers are nn::activation_forward/backward (nn/activation_driver.cpp);
// vector math splits flat element ranges with parallel_for.
#include <cstddef>
#include <string>

#include "bindings/array_checks.h"
#include "bindings/bindings.h"
#include "cpu/threads.h"
#include "nn/activation.h"
#include "nn/vmath.h"

namespace pydl::bind {
namespace {

using nn::Activation;

// Items per thread below which splitting costs more than it saves.
constexpr std::ptrdiff_t kElementGrain = 16384;

Activation activation_from(const py::object& name_obj) {
    if (!py::isinstance<py::str>(name_obj)) {
        throw py::type_error("name: expected a str, received " +
                             py::str(py::type::of(name_obj).attr("__name__")).cast<std::string>());
    }
    const std::string name = name_obj.cast<std::string>();
    Activation act;
    if (!nn::parse_activation(name, &act)) {
        throw py::value_error("name: expected one of " + std::string(nn::activation_names()) +
                              ", received '" + name + "'");
    }
    return act;
}

void require_same_shape(const py::array& a, const char* name, const py::array& like,
                        const char* like_name) {
    bool same = a.ndim() == like.ndim();
    for (py::ssize_t i = 0; same && i < a.ndim(); ++i) same = a.shape(i) == like.shape(i);
    if (!same) {
        throw py::value_error(std::string(name) + ": expected shape " + shape_str(like) +
                              " (the shape of " + like_name + "), received " + shape_str(a));
    }
}

// An output may be exactly one of the inputs (in place) but never overlap one partly.
void require_same_or_disjoint(const py::array& out, const char* out_name, const py::array& in,
                              const char* in_name) {
    if (out.data() != in.data()) require_no_overlap(out, out_name, in, in_name);
}

// Checks `obj` as an input shaped like `like`, returns it as an array.
py::array input_like(const py::handle& obj, const char* name, const py::array& like,
                     const char* like_name) {
    py::array a = require_array(obj, name);
    require_same_dtype(a, name, like, like_name);
    require_contiguous(a, name);
    require_same_shape(a, name, like, like_name);
    return a;
}

// (rows, cols) with cols the last axis; a 0-d array is one row of one value.
std::pair<std::ptrdiff_t, std::ptrdiff_t> rows_cols(const py::array& a) {
    const std::ptrdiff_t n = a.size();
    if (a.ndim() == 0) return {1, 1};
    const std::ptrdiff_t cols = a.shape(a.ndim() - 1);
    return {cols == 0 ? 0 : n / cols, cols};
}

template <class T>
const T* data_or_null(const py::object& a) {
    return a.is_none() ? nullptr : const_data<T>(a.cast<py::array>());
}

void activation_forward(const py::object& name, const py::object& x_obj,
                        const py::object& out_obj, double alpha) {
    const Activation act = activation_from(name);
    py::array x = require_array(x_obj, "x");
    const FloatType type = require_float_input(x, "x");
    py::array out = require_array(out_obj, "out");
    require_output(out, "out", x, "x");
    require_same_shape(out, "out", x, "x");
    require_same_or_disjoint(out, "out", x, "x");
    const auto [rows, cols] = rows_cols(x);
    py::gil_scoped_release release;
    if (type == FloatType::f32) {
        nn::activation_forward<float>(act, static_cast<float>(alpha), const_data<float>(x),
                            mutable_data<float>(out), rows, cols);
    } else {
        nn::activation_forward<double>(act, alpha, const_data<double>(x), mutable_data<double>(out), rows,
                             cols);
    }
}

void activation_backward(const py::object& name, const py::object& z_obj,
                         const py::object& y_obj, const py::object& dy_obj,
                         const py::object& dx_obj, double alpha) {
    const Activation act = activation_from(name);
    const bool needs_z = nn::needs_preactivation(act);
    if ((act == Activation::leaky_relu || act == Activation::elu) && !(alpha >= 0.0)) {
        throw py::value_error("alpha: expected alpha >= 0 for " +
                              std::string(act == Activation::elu ? "elu" : "leaky_relu") +
                              " (its derivative is read from y), received " +
                              py::str(py::float_(alpha)).cast<std::string>());
    }
    py::array dy = require_array(dy_obj, "dy");
    const FloatType type = require_float_input(dy, "dy");
    py::array dx = require_array(dx_obj, "dx");
    require_output(dx, "dx", dy, "dy");
    require_same_shape(dx, "dx", dy, "dy");
    require_same_or_disjoint(dx, "dx", dy, "dy");

    py::object z = py::none(), y = py::none();
    if (!z_obj.is_none()) {
        z = input_like(z_obj, "z", dy, "dy");
        require_same_or_disjoint(dx, "dx", z.cast<py::array>(), "z");
    } else if (needs_z) {
        throw py::value_error("z: activation '" + name.cast<std::string>() +
                              "' needs the pre-activation z, received None");
    }
    if (!y_obj.is_none()) {
        y = input_like(y_obj, "y", dy, "dy");
        require_same_or_disjoint(dx, "dx", y.cast<py::array>(), "y");
    } else if (!needs_z && act != Activation::linear) {
        throw py::value_error("y: activation '" + name.cast<std::string>() +
                              "' needs its output y, received None");
    }
    const auto [rows, cols] = rows_cols(dy);
    py::gil_scoped_release release;
    if (type == FloatType::f32) {
        nn::activation_backward<float>(act, static_cast<float>(alpha), data_or_null<float>(z),
                             data_or_null<float>(y), const_data<float>(dy),
                             mutable_data<float>(dx), rows, cols);
    } else {
        nn::activation_backward<double>(act, alpha, data_or_null<double>(z), data_or_null<double>(y),
                              const_data<double>(dy), mutable_data<double>(dx), rows, cols);
    }
}

template <void (*F32)(const float*, float*, std::ptrdiff_t),
          void (*F64)(const double*, double*, std::ptrdiff_t)>
void unary_math(const py::object& x_obj, const py::object& out_obj) {
    py::array x = require_array(x_obj, "x");
    const FloatType type = require_float_input(x, "x");
    py::array out = require_array(out_obj, "out");
    require_output(out, "out", x, "x");
    require_same_shape(out, "out", x, "x");
    require_same_or_disjoint(out, "out", x, "x");
    const std::ptrdiff_t n = x.size();
    const void* xp = x.data();
    void* op = out.mutable_data();
    py::gil_scoped_release release;
    parallel_for(n, kElementGrain, [&](std::ptrdiff_t b, std::ptrdiff_t e) {
        if (type == FloatType::f32) {
            F32(static_cast<const float*>(xp) + b, static_cast<float*>(op) + b, e - b);
        } else {
            F64(static_cast<const double*>(xp) + b, static_cast<double*>(op) + b, e - b);
        }
    });
}

}  // namespace

void bind_activations(py::module_& m) {
    m.def(
        "activation_needs_preactivation",
        [](const py::object& name) { return nn::needs_preactivation(activation_from(name)); },
        py::arg("name"),
        "True when the backward of activation `name` needs the pre-activation z, not only y.");
    m.def("activation_forward", &activation_forward, py::arg("name"), py::arg("x"),
          py::arg("out"), py::arg("alpha") = 0.0,
          "out = act(x) (softmax over the last axis); out may be x. alpha: the slope of "
          "leaky_relu, the alpha of elu.");
    m.def("activation_backward", &activation_backward, py::arg("name"), py::arg("z"),
          py::arg("y"), py::arg("dy"), py::arg("dx"), py::arg("alpha") = 0.0,
          "dx = dy * act'(z) (softmax: the Jacobian product with y). z may be None unless "
          "activation_needs_preactivation(name); dx may be dy.");
    m.def("vexp", &unary_math<vmath::exp<float>, vmath::exp<double>>, py::arg("x"),
          py::arg("out"), "out = exp(x), a few ulp; out may be x.");
    m.def("vlog", &unary_math<vmath::log<float>, vmath::log<double>>, py::arg("x"),
          py::arg("out"), "out = log(x), a few ulp; out may be x.");
    m.def("vtanh", &unary_math<vmath::tanh<float>, vmath::tanh<double>>, py::arg("x"),
          py::arg("out"), "out = tanh(x), a few ulp; out may be x.");
}

}  // namespace pydl::bind
