// _core.batchnorm_*, _core.layernorm_* and _core.unit_normalize_*: argument checks,
// then the kernels of nn/batchnorm.h, nn/layernorm.h and nn/unit_norm.h with the GIL
// released.
#include <cstddef>
#include <initializer_list>
#include <string>
#include <type_traits>
#include <utility>

#include "bindings/array_checks.h"
#include "bindings/bindings.h"
#include "nn/batchnorm.h"
#include "nn/layernorm.h"
#include "nn/unit_norm.h"

namespace pydl::bind {

namespace {

// An input of the dtype of `like`, C-contiguous, of exactly `shape`.
py::array vector_input(const py::handle& obj, const char* name, const py::array& like,
                       const char* like_name, py::ssize_t n) {
    py::array a = require_array(obj, name);
    require_same_dtype(a, name, like, like_name);
    require_contiguous(a, name);
    require_shape(a, name, {n});
    return a;
}

// As vector_input, and writeable, not overlapping `x`.
py::array vector_output(const py::handle& obj, const char* name, const py::array& x,
                        py::ssize_t n) {
    py::array a = vector_input(obj, name, x, "x", n);
    require_writeable(a, name);
    require_no_overlap(a, name, x, "x");
    return a;
}

// An input (or output) with the shape and dtype of x.
py::array like_x(const py::handle& obj, const char* name, const py::array& x) {
    py::array a = require_array(obj, name);
    require_same_dtype(a, name, x, "x");
    require_contiguous(a, name);
    bool same = a.ndim() == x.ndim();
    for (py::ssize_t i = 0; same && i < a.ndim(); ++i) same = a.shape(i) == x.shape(i);
    if (!same) {
        throw py::value_error(std::string(name) + ": expected shape " + shape_str(x) +
                              " (the shape of x), received " + shape_str(a));
    }
    return a;
}

// The optional gradient outputs of a backward call: dx (x's shape) and the (n,)
// parameter gradients; each writeable, disjoint from every input and each other.
using Named = std::pair<const py::object*, const char*>;
void check_gradient_outputs(const Named (&outputs)[3], std::initializer_list<Named> inputs,
                            const py::array& x, py::ssize_t n) {
    for (int i = 0; i < 3; ++i) {
        const auto& [obj, name] = outputs[i];
        if (obj->is_none()) continue;
        py::array a = i == 0 ? like_x(*obj, name, x) : vector_input(*obj, name, x, "x", n);
        require_writeable(a, name);
        for (const auto& [in, in_name] : inputs) {
            if (!in->is_none()) require_no_overlap(a, name, in->cast<py::array>(), in_name);
        }
        for (int j = 0; j < i; ++j) {
            if (!outputs[j].first->is_none()) {
                require_no_overlap(a, name, outputs[j].first->cast<py::array>(), outputs[j].second);
            }
        }
    }
}

template <class T>
T* data_or_null(const py::object& obj) {
    if (obj.is_none()) return nullptr;
    py::array a = py::reinterpret_borrow<py::array>(obj);
    return static_cast<T*>(a.mutable_data());
}

template <class T>
const T* const_or_null(const py::object& obj) {
    if (obj.is_none()) return nullptr;
    return const_data<T>(py::reinterpret_borrow<py::array>(obj));
}

// (outer, channels, inner) of x around `axis` (negative counts from the end).
struct Channels {
    std::ptrdiff_t outer = 1, channels = 1, inner = 1;
};

Channels channels_of(const py::array& x, int axis) {
    const int ndim = static_cast<int>(x.ndim());
    if (ndim < 1) throw py::value_error("x: expected an array of rank >= 1, received a scalar");
    if (axis < -ndim || axis >= ndim) {
        throw py::value_error("axis: expected a value in [" + std::to_string(-ndim) + ", " +
                              std::to_string(ndim) + ") for x of shape " + shape_str(x) +
                              ", received " + std::to_string(axis));
    }
    if (axis < 0) axis += ndim;
    Channels c;
    for (int i = 0; i < axis; ++i) c.outer *= x.shape(i);
    c.channels = x.shape(axis);
    for (int i = axis + 1; i < ndim; ++i) c.inner *= x.shape(i);
    return c;
}

void check_epsilon(double epsilon) {
    if (!(epsilon > 0.0)) {
        throw py::value_error("epsilon: expected a positive number, received " +
                              std::to_string(epsilon));
    }
}

void batchnorm_forward_binding(const py::object& x_obj, const py::object& gamma_obj,
                               const py::object& beta_obj, const py::object& mean_obj,
                               const py::object& variance_obj, const py::object& inv_std_obj,
                               const py::object& y_obj, int axis, double epsilon,
                               bool training) {
    py::array x = require_array(x_obj, "x");
    const FloatType type = require_float_input(x, "x");
    const Channels c = channels_of(x, axis);
    check_epsilon(epsilon);
    if (!gamma_obj.is_none()) vector_input(gamma_obj, "gamma", x, "x", c.channels);
    if (!beta_obj.is_none()) vector_input(beta_obj, "beta", x, "x", c.channels);
    py::array mean, variance;
    if (training) {
        mean = vector_output(mean_obj, "mean", x, c.channels);
        variance = vector_output(variance_obj, "variance", x, c.channels);
        require_no_overlap(mean, "mean", variance, "variance");
    } else {
        mean = vector_input(mean_obj, "mean", x, "x", c.channels);
        variance = vector_input(variance_obj, "variance", x, "x", c.channels);
    }
    py::array inv_std = vector_output(inv_std_obj, "inv_std", x, c.channels);
    py::array y = like_x(y_obj, "y", x);
    require_writeable(y, "y");
    require_no_overlap(y, "y", x, "x");
    for (const auto& [a, name] : {std::pair{mean, "mean"}, std::pair{variance, "variance"}}) {
        require_no_overlap(inv_std, "inv_std", a, name);
        require_no_overlap(y, "y", a, name);
    }
    require_no_overlap(y, "y", inv_std, "inv_std");
    auto run = [&](auto* tag) {
        using T = std::remove_pointer_t<decltype(tag)>;
        const T* gamma = const_or_null<T>(gamma_obj);
        const T* beta = const_or_null<T>(beta_obj);
        const T* xd = const_data<T>(x);
        T* yd = mutable_data<T>(y);
        T* inv = mutable_data<T>(inv_std);
        if (training) {
            T* m = mutable_data<T>(mean);
            T* v = mutable_data<T>(variance);
            py::gil_scoped_release release;
            nn::batchnorm_forward_training(xd, gamma, beta, c.outer, c.channels, c.inner, epsilon,
                                           yd, m, v, inv);
        } else {
            const T* m = const_data<T>(mean);
            const T* v = const_data<T>(variance);
            py::gil_scoped_release release;
            nn::batchnorm_forward_inference(xd, gamma, beta, m, v, c.outer, c.channels, c.inner,
                                            epsilon, yd, inv);
        }
    };
    if (type == FloatType::f32) {
        run(static_cast<float*>(nullptr));
    } else {
        run(static_cast<double*>(nullptr));
    }
}

void batchnorm_backward_binding(const py::object& x_obj, const py::object& gamma_obj,
                                const py::object& mean_obj, const py::object& inv_std_obj,
                                const py::object& dy_obj, const py::object& dx_obj,
                                const py::object& dgamma_obj, const py::object& dbeta_obj,
                                int axis, bool training) {
    py::array x = require_array(x_obj, "x");
    const FloatType type = require_float_input(x, "x");
    const Channels c = channels_of(x, axis);
    if (!gamma_obj.is_none()) vector_input(gamma_obj, "gamma", x, "x", c.channels);
    vector_input(mean_obj, "mean", x, "x", c.channels);
    vector_input(inv_std_obj, "inv_std", x, "x", c.channels);
    like_x(dy_obj, "dy", x);
    const Named outputs[3] = {{&dx_obj, "dx"}, {&dgamma_obj, "dgamma"}, {&dbeta_obj, "dbeta"}};
    check_gradient_outputs(outputs,
                           {{&x_obj, "x"}, {&gamma_obj, "gamma"}, {&mean_obj, "mean"},
                            {&inv_std_obj, "inv_std"}, {&dy_obj, "dy"}},
                           x, c.channels);
    auto run = [&](auto* tag) {
        using T = std::remove_pointer_t<decltype(tag)>;
        const T* xd = const_data<T>(x);
        const T* gamma = const_or_null<T>(gamma_obj);
        const T* mean = const_or_null<T>(mean_obj);
        const T* inv = const_or_null<T>(inv_std_obj);
        const T* dyd = const_or_null<T>(dy_obj);
        T* dx = data_or_null<T>(dx_obj);
        T* dgamma = data_or_null<T>(dgamma_obj);
        T* dbeta = data_or_null<T>(dbeta_obj);
        py::gil_scoped_release release;
        nn::batchnorm_backward(xd, gamma, mean, inv, dyd, c.outer, c.channels, c.inner, training,
                               dx, dgamma, dbeta);
    };
    if (type == FloatType::f32) {
        run(static_cast<float*>(nullptr));
    } else {
        run(static_cast<double*>(nullptr));
    }
}

void batchnorm_update_moving_binding(const py::object& moving_obj, const py::object& batch_obj,
                                     double momentum) {
    py::array moving = require_array(moving_obj, "moving");
    const FloatType type = require_float_input(moving, "moving");
    require_writeable(moving, "moving");
    require_ndim(moving, "moving", 1);
    py::array batch = vector_input(batch_obj, "batch", moving, "moving", moving.shape(0));
    require_no_overlap(moving, "moving", batch, "batch");
    const std::ptrdiff_t n = moving.shape(0);
    if (!(momentum >= 0.0 && momentum <= 1.0)) {
        throw py::value_error("momentum: expected a number in [0, 1], received " +
                              std::to_string(momentum));
    }
    auto run = [&](auto* tag) {
        using T = std::remove_pointer_t<decltype(tag)>;
        T* m = mutable_data<T>(moving);
        const T* b = const_data<T>(batch);
        py::gil_scoped_release release;
        nn::batchnorm_update_moving(m, b, n, momentum);
    };
    if (type == FloatType::f32) {
        run(static_cast<float*>(nullptr));
    } else {
        run(static_cast<double*>(nullptr));
    }
}

// x (rows, cols): the checks of both layernorm calls.
std::pair<std::ptrdiff_t, std::ptrdiff_t> layernorm_shape(const py::array& x) {
    require_ndim(x, "x", 2);
    return {x.shape(0), x.shape(1)};
}

void layernorm_forward_binding(const py::object& x_obj, const py::object& gamma_obj,
                               const py::object& beta_obj, const py::object& y_obj,
                               const py::object& mean_obj, const py::object& rstd_obj,
                               double epsilon, bool rms_scaling) {
    py::array x = require_array(x_obj, "x");
    const FloatType type = require_float_input(x, "x");
    const auto [rows, cols] = layernorm_shape(x);
    check_epsilon(epsilon);
    if (!gamma_obj.is_none()) vector_input(gamma_obj, "gamma", x, "x", cols);
    if (!beta_obj.is_none()) vector_input(beta_obj, "beta", x, "x", cols);
    py::array y = like_x(y_obj, "y", x);
    require_writeable(y, "y");
    require_no_overlap(y, "y", x, "x");
    py::array mean = vector_output(mean_obj, "mean", x, rows);
    py::array rstd = vector_output(rstd_obj, "rstd", x, rows);
    require_no_overlap(mean, "mean", rstd, "rstd");
    require_no_overlap(y, "y", mean, "mean");
    require_no_overlap(y, "y", rstd, "rstd");
    auto run = [&](auto* tag) {
        using T = std::remove_pointer_t<decltype(tag)>;
        const T* gamma = const_or_null<T>(gamma_obj);
        const T* beta = const_or_null<T>(beta_obj);
        const T* xd = const_data<T>(x);
        T* yd = mutable_data<T>(y);
        T* m = mutable_data<T>(mean);
        T* s = mutable_data<T>(rstd);
        py::gil_scoped_release release;
        nn::layernorm_forward(xd, gamma, beta, rows, cols, epsilon, rms_scaling, yd, m, s);
    };
    if (type == FloatType::f32) {
        run(static_cast<float*>(nullptr));
    } else {
        run(static_cast<double*>(nullptr));
    }
}

void layernorm_backward_binding(const py::object& x_obj, const py::object& gamma_obj,
                                const py::object& mean_obj, const py::object& rstd_obj,
                                const py::object& dy_obj, const py::object& dx_obj,
                                const py::object& dgamma_obj, const py::object& dbeta_obj,
                                bool rms_scaling) {
    py::array x = require_array(x_obj, "x");
    const FloatType type = require_float_input(x, "x");
    const auto [rows, cols] = layernorm_shape(x);
    if (!gamma_obj.is_none()) vector_input(gamma_obj, "gamma", x, "x", cols);
    vector_input(mean_obj, "mean", x, "x", rows);
    vector_input(rstd_obj, "rstd", x, "x", rows);
    like_x(dy_obj, "dy", x);
    const Named outputs[3] = {{&dx_obj, "dx"}, {&dgamma_obj, "dgamma"}, {&dbeta_obj, "dbeta"}};
    check_gradient_outputs(outputs,
                           {{&x_obj, "x"}, {&gamma_obj, "gamma"}, {&mean_obj, "mean"},
                            {&rstd_obj, "rstd"}, {&dy_obj, "dy"}},
                           x, cols);
    auto run = [&](auto* tag) {
        using T = std::remove_pointer_t<decltype(tag)>;
        const T* xd = const_data<T>(x);
        const T* gamma = const_or_null<T>(gamma_obj);
        const T* mean = const_or_null<T>(mean_obj);
        const T* rstd = const_or_null<T>(rstd_obj);
        const T* dy = const_or_null<T>(dy_obj);
        T* dx = data_or_null<T>(dx_obj);
        T* dgamma = data_or_null<T>(dgamma_obj);
        T* dbeta = data_or_null<T>(dbeta_obj);
        py::gil_scoped_release release;
        nn::layernorm_backward(xd, gamma, mean, rstd, dy, rows, cols, rms_scaling, dx, dgamma,
                               dbeta);
    };
    if (type == FloatType::f32) {
        run(static_cast<float*>(nullptr));
    } else {
        run(static_cast<double*>(nullptr));
    }
}

void unit_normalize_forward_binding(const py::object& x_obj, const py::object& y_obj,
                                    const py::object& inv_obj, double epsilon) {
    py::array x = require_array(x_obj, "x");
    const FloatType type = require_float_input(x, "x");
    const auto [rows, cols] = layernorm_shape(x);
    check_epsilon(epsilon);
    py::array y = like_x(y_obj, "y", x);
    require_writeable(y, "y");
    require_no_overlap(y, "y", x, "x");
    py::array inv = vector_output(inv_obj, "inv", x, rows);
    require_no_overlap(y, "y", inv, "inv");
    auto run = [&](auto* tag) {
        using T = std::remove_pointer_t<decltype(tag)>;
        const T* xd = const_data<T>(x);
        T* yd = mutable_data<T>(y);
        T* id = mutable_data<T>(inv);
        py::gil_scoped_release release;
        nn::unit_normalize_forward(xd, rows, cols, epsilon, yd, id);
    };
    if (type == FloatType::f32) {
        run(static_cast<float*>(nullptr));
    } else {
        run(static_cast<double*>(nullptr));
    }
}

void unit_normalize_backward_binding(const py::object& y_obj, const py::object& inv_obj,
                                     const py::object& dy_obj, const py::object& dx_obj,
                                     double epsilon) {
    py::array y = require_array(y_obj, "y");
    const FloatType type = require_float_input(y, "y");
    const auto [rows, cols] = layernorm_shape(y);
    check_epsilon(epsilon);
    py::array inv = vector_input(inv_obj, "inv", y, "y", rows);
    py::array dy = like_x(dy_obj, "dy", y);
    py::array dx = like_x(dx_obj, "dx", y);
    require_writeable(dx, "dx");
    require_no_overlap(dx, "dx", y, "y");
    require_no_overlap(dx, "dx", inv, "inv");
    require_no_overlap(dx, "dx", dy, "dy");
    auto run = [&](auto* tag) {
        using T = std::remove_pointer_t<decltype(tag)>;
        const T* yd = const_data<T>(y);
        const T* id = const_data<T>(inv);
        const T* g = const_data<T>(dy);
        T* d = mutable_data<T>(dx);
        py::gil_scoped_release release;
        nn::unit_normalize_backward(yd, id, g, rows, cols, epsilon, d);
    };
    if (type == FloatType::f32) {
        run(static_cast<float*>(nullptr));
    } else {
        run(static_cast<double*>(nullptr));
    }
}

}  // namespace

void bind_normalization(py::module_& m) {
    m.def("unit_normalize_forward", &unit_normalize_forward_binding, py::arg("x"), py::arg("y"),
          py::arg("inv"), py::arg("epsilon") = 1e-12,
          R"doc(L2 normalization of each row of the 2-D x (rows, cols): inv (rows,) receives
1 / sqrt(sum(x**2)) (summed in double, one rounding), y = x * minimum(inv, 1 / epsilon).)doc");
    m.def("unit_normalize_backward", &unit_normalize_backward_binding, py::arg("y"),
          py::arg("inv"), py::arg("dy"), py::arg("dx"), py::arg("epsilon") = 1e-12,
          R"doc(Gradient of unit_normalize_forward from its y and inv: dx = scale * (dy -
y * sum(dy * y)) where inv <= 1 / epsilon (else scale * dy), scale = minimum(inv, 1 / epsilon).)doc");
    m.def("batchnorm_forward", &batchnorm_forward_binding, py::arg("x"), py::arg("gamma"),
          py::arg("beta"), py::arg("mean"), py::arg("variance"), py::arg("inv_std"),
          py::arg("y"), py::arg("axis") = -1, py::arg("epsilon") = 1e-3,
          py::arg("training") = true,
          R"doc(Batch normalization over every axis of x but `axis`.

training=True: mean and variance (C,) receive the batch statistics (biased
variance, sums in double); False: they are read (moving statistics). inv_std (C,)
receives 1/sqrt(variance + epsilon); y (x's shape) = (x - mean) * gamma * inv_std
+ beta. gamma / beta (C,) may be None.)doc");
    m.def("batchnorm_backward", &batchnorm_backward_binding, py::arg("x"), py::arg("gamma"),
          py::arg("mean"), py::arg("inv_std"), py::arg("dy"), py::arg("dx"), py::arg("dgamma"),
          py::arg("dbeta"), py::arg("axis") = -1, py::arg("training") = true,
          R"doc(Gradients of batchnorm_forward from its mean and inv_std: dx (x's shape),
dgamma, dbeta (C,); each may be None. training=True: the forward used batch
statistics (the gradient also flows through them).)doc");
    m.def("batchnorm_update_moving", &batchnorm_update_moving_binding, py::arg("moving"),
          py::arg("batch"), py::arg("momentum"),
          "moving = moving * momentum + batch * (1 - momentum), in place, in moving's dtype "
          "(Keras 3's moving-statistic update).");
    m.def("layernorm_forward", &layernorm_forward_binding, py::arg("x"), py::arg("gamma"),
          py::arg("beta"), py::arg("y"), py::arg("mean"), py::arg("rstd"),
          py::arg("epsilon") = 1e-3, py::arg("rms_scaling") = false,
          R"doc(Layer normalization of each row of the 2-D x (rows, cols).

mean, rstd (rows,) receive each row's mean and 1/sqrt(var + epsilon); y = (x - mean)
* rstd * gamma + beta, or with rms_scaling (Keras 3) y = x * rstd * gamma.
gamma / beta (cols,) may be None.)doc");
    m.def("layernorm_backward", &layernorm_backward_binding, py::arg("x"), py::arg("gamma"),
          py::arg("mean"), py::arg("rstd"), py::arg("dy"), py::arg("dx"), py::arg("dgamma"),
          py::arg("dbeta"), py::arg("rms_scaling") = false,
          "Gradients of layernorm_forward from its mean and rstd: dx (x's shape), dgamma, "
          "dbeta (cols,); each may be None.");
}

}  // namespace pydl::bind
