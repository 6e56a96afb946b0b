// _core.loss: argument checks, then nn::loss with the GIL released.
#include <cmath>
#include <cstdint>
#include <string>

#include "bindings/array_checks.h"
#include "bindings/bindings.h"
#include "nn/loss.h"

namespace pydl::bind {

namespace {

bool same_shape(const py::array& a, const py::array& b) {
    if (a.ndim() != b.ndim()) return false;
    for (py::ssize_t i = 0; i < a.ndim(); ++i) {
        if (a.shape(i) != b.shape(i)) return false;
    }
    return true;
}

// Sparse targets: y_pred.shape[:-1], or that with a trailing 1 (Keras squeezes it).
bool sparse_target_shape_ok(const py::array& y_true, const py::array& y_pred) {
    const py::ssize_t lead = y_pred.ndim() - 1;
    if (y_true.ndim() != lead && !(y_true.ndim() == lead + 1 && y_true.shape(lead) == 1)) return false;
    for (py::ssize_t i = 0; i < lead; ++i) {
        if (y_true.shape(i) != y_pred.shape(i)) return false;
    }
    return true;
}

template <class L>
void check_labels(const py::array& y_true, std::ptrdiff_t rows, std::ptrdiff_t classes) {
    const L* labels = const_data<L>(y_true);
    const std::ptrdiff_t bad = nn::find_bad_label(labels, rows, classes);
    if (bad >= 0) {
        throw py::value_error("y_true: expected class indices in [0, " + std::to_string(classes) +
                              ") (the last axis of y_pred), received " +
                              std::to_string(static_cast<long long>(labels[bad])) +
                              " at flat position " + std::to_string(bad));
    }
}

// What the checks established, before the dtype is dispatched.
struct LossSetup {
    nn::LossKind kind;
    std::ptrdiff_t batch, rows, cols;
    bool from_logits;
    double delta;
};

template <class T>
double run_loss(const LossSetup& setup, const py::array& y_true, const py::array& y_pred,
                const py::object& grad, const py::object& sample_weight) {
    nn::LossProblem<T> p;
    p.kind = setup.kind;
    p.batch = setup.batch;
    p.rows = setup.rows;
    p.cols = setup.cols;
    p.from_logits = setup.from_logits;
    p.delta = setup.delta;
    p.y_pred = const_data<T>(y_pred);
    if (p.kind == nn::LossKind::sparse_categorical_crossentropy) {
        if (y_true.dtype().equal(py::dtype::of<std::int64_t>())) {
            p.labels_i64 = const_data<std::int64_t>(y_true);
        } else {
            p.labels_i32 = const_data<std::int32_t>(y_true);
        }
    } else {
        p.y_true = const_data<T>(y_true);
    }
    if (!sample_weight.is_none()) p.sample_weight = const_data<T>(py::reinterpret_borrow<py::array>(sample_weight));
    if (!grad.is_none()) {
        auto g = py::reinterpret_borrow<py::array>(grad);
        p.grad = mutable_data<T>(g);
    }
    py::gil_scoped_release release;
    return nn::loss(p);
}

double loss_binding(const std::string& kind_name, const py::object& y_true_obj,
                    const py::object& y_pred_obj, const py::object& grad_obj,
                    const py::object& sample_weight_obj, bool from_logits, double delta) {
    nn::LossKind kind;
    if (!nn::parse_loss(kind_name, &kind)) {
        throw py::value_error("kind: expected one of " + std::string(nn::loss_names()) +
                              ", received '" + kind_name + "'");
    }
    const bool sparse = kind == nn::LossKind::sparse_categorical_crossentropy;

    py::array y_pred = require_array(y_pred_obj, "y_pred");
    const FloatType type = require_float_input(y_pred, "y_pred");
    if (y_pred.ndim() < (sparse ? 2 : 1)) {
        throw py::value_error(std::string("y_pred: expected an array of ") +
                              (sparse ? "shape (batch, ..., classes)" : "shape (batch, ...)") +
                              ", received shape " + shape_str(y_pred));
    }
    const py::ssize_t cols = y_pred.ndim() == 1 ? 1 : y_pred.shape(y_pred.ndim() - 1);
    if (cols < 1) {
        throw py::value_error("y_pred: expected at least one value in the last axis, received shape " +
                              shape_str(y_pred));
    }
    const LossSetup setup{kind, y_pred.shape(0), y_pred.size() / cols, cols, from_logits, delta};

    py::array y_true = require_array(y_true_obj, "y_true");
    if (sparse) {
        if (!y_true.dtype().equal(py::dtype::of<std::int32_t>()) &&
            !y_true.dtype().equal(py::dtype::of<std::int64_t>())) {
            throw py::type_error("y_true: expected dtype int32 or int64 (class indices), received " +
                                 dtype_str(y_true));
        }
        require_contiguous(y_true, "y_true");
        if (!sparse_target_shape_ok(y_true, y_pred)) {
            throw py::value_error("y_true: expected class indices of shape y_pred.shape[:-1] (y_pred: " +
                                  shape_str(y_pred) + "), received shape " + shape_str(y_true));
        }
        if (y_true.dtype().equal(py::dtype::of<std::int64_t>())) {
            check_labels<std::int64_t>(y_true, setup.rows, cols);
        } else {
            check_labels<std::int32_t>(y_true, setup.rows, cols);
        }
    } else {
        require_same_dtype(y_true, "y_true", y_pred, "y_pred");
        require_contiguous(y_true, "y_true");
        if (!same_shape(y_true, y_pred)) {
            throw py::value_error("y_true: expected shape " + shape_str(y_pred) +
                                  " (the shape of y_pred), received " + shape_str(y_true));
        }
    }
    if (!sample_weight_obj.is_none()) {
        py::array w = require_array(sample_weight_obj, "sample_weight");
        require_same_dtype(w, "sample_weight", y_pred, "y_pred");
        require_contiguous(w, "sample_weight");
        require_shape(w, "sample_weight", {y_pred.shape(0)});
    }
    if (!grad_obj.is_none()) {
        py::array g = require_array(grad_obj, "grad");
        require_output(g, "grad", y_pred, "y_pred");
        if (!same_shape(g, y_pred)) {
            throw py::value_error("grad: expected shape " + shape_str(y_pred) +
                                  " (the shape of y_pred), received " + shape_str(g));
        }
        // grad may be y_pred itself (the kernels read each value before writing it),
        // but must not overlap anything else.
        if (g.data() != y_pred.data()) require_no_overlap(g, "grad", y_pred, "y_pred");
        require_no_overlap(g, "grad", y_true, "y_true");
        if (!sample_weight_obj.is_none()) {
            require_no_overlap(g, "grad", py::reinterpret_borrow<py::array>(sample_weight_obj),
                               "sample_weight");
        }
    }
    if (kind == nn::LossKind::huber && !(delta > 0.0)) {
        throw py::value_error("delta: expected a positive number, received " + std::to_string(delta));
    }

    if (type == FloatType::f32) {
        return run_loss<float>(setup, y_true, y_pred, grad_obj, sample_weight_obj);
    }
    return run_loss<double>(setup, y_true, y_pred, grad_obj, sample_weight_obj);
}

}  // namespace

void bind_losses(py::module_& m) {
    m.def("loss", &loss_binding, py::arg("kind"), py::arg("y_true"), py::arg("y_pred"),
          py::arg("grad") = py::none(), py::arg("sample_weight") = py::none(),
          py::arg("from_logits") = false, py::arg("delta") = 1.0,
          R"doc(Loss value sum_i(w_i * l_i) / B, as Keras 3 ("sum_over_batch_size").

kind: mse, mae, huber, binary_crossentropy, categorical_crossentropy,
sparse_categorical_crossentropy, kl_divergence, poisson, log_cosh, hinge,
squared_hinge, categorical_hinge, cosine_similarity, msle, mape.
y_pred (B, ...) float32/float64; y_true the same shape and dtype, or int32/int64
class indices of shape y_pred.shape[:-1] for the sparse kind. l_i is the mean over the last axis (mse, mae, huber,
binary_crossentropy, msle, mape, log_cosh, poisson, hinge, squared_hinge), the
sum over it (categorical, kl_divergence) or a whole-row quantity
(categorical_hinge, cosine_similarity), as Keras 3. grad, when given,
receives d(loss)/d(y_pred) (it may be y_pred itself). sample_weight (B,).
from_logits applies to the crossentropy kinds, delta to huber.)doc");
}

}  // namespace pydl::bind
