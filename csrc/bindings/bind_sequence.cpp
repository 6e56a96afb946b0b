// _core.embedding_* and _core.global_*_pool_*: argument checks (every index
// included), then the kernels of nn/embedding.h and nn/pooling.h with the GIL
// released.
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "bindings/array_checks.h"
#include "bindings/bindings.h"
#include "nn/embedding.h"
#include "nn/gather.h"
#include "nn/pooling.h"

namespace pydl::bind {

namespace {

// "(1, 3)": the multi-index of flat position `flat` in an array of a's shape.
std::string position_str(const py::array& a, std::ptrdiff_t flat) {
    std::string out;
    for (py::ssize_t i = a.ndim() - 1; i >= 0; --i) {
        const std::ptrdiff_t n = a.shape(i);
        out = std::to_string(flat % n) + (out.empty() ? "" : ", ") + out;
        flat /= n;
    }
    return "(" + out + (a.ndim() == 1 ? ",)" : ")");
}

// int64 indices, C-contiguous, each in [0, rows): else ValueError naming the first
// offender and its position.
py::array checked_indices(const py::handle& obj, std::int64_t rows) {
    py::array idx = require_array(obj, "indices");
    require_dtype<std::int64_t>(idx, "indices");
    require_contiguous(idx, "indices");
    const std::int64_t* data = const_data<std::int64_t>(idx);
    const std::ptrdiff_t bad = nn::find_bad_index(data, idx.size(), rows);
    if (bad >= 0) {
        throw py::value_error("indices: expected values in [0, " + std::to_string(rows) +
                              ") (input_dim), received " + std::to_string(data[bad]) +
                              " at position " + position_str(idx, bad));
    }
    return idx;
}

// An array of exactly `shape` with the dtype of `like`, C-contiguous.
py::array shaped(const py::handle& obj, const char* name, const py::array& like,
                 const char* like_name, const std::vector<py::ssize_t>& shape) {
    py::array a = require_array(obj, name);
    require_same_dtype(a, name, like, like_name);
    require_contiguous(a, name);
    bool same = a.ndim() == static_cast<py::ssize_t>(shape.size());
    for (py::ssize_t i = 0; same && i < a.ndim(); ++i) same = a.shape(i) == shape[i];
    if (!same) {
        std::string want = "(";
        for (std::size_t i = 0; i < shape.size(); ++i) {
            want += (i ? ", " : "") + std::to_string(shape[i]);
        }
        want += shape.size() == 1 ? ",)" : ")";
        throw py::value_error(std::string(name) + ": expected shape " + want + ", received " +
                              shape_str(a));
    }
    return a;
}

py::array writeable_output(const py::handle& obj, const char* name, const py::array& like,
                           const char* like_name, const std::vector<py::ssize_t>& shape) {
    py::array a = shaped(obj, name, like, like_name, shape);
    require_writeable(a, name);
    return a;
}

template <class Run>
void dispatch(FloatType type, Run&& run) {
    if (type == FloatType::f32) {
        run(static_cast<float*>(nullptr));
    } else {
        run(static_cast<double*>(nullptr));
    }
}

void embedding_forward_binding(const py::object& table_obj, const py::object& indices_obj,
                               const py::object& out_obj) {
    py::array table = require_array(table_obj, "table");
    const FloatType type = require_float_input(table, "table");
    require_ndim(table, "table", 2);
    py::array idx = checked_indices(indices_obj, table.shape(0));
    std::vector<py::ssize_t> shape(idx.shape(), idx.shape() + idx.ndim());
    shape.push_back(table.shape(1));
    py::array out = writeable_output(out_obj, "out", table, "table", shape);
    require_no_overlap(out, "out", table, "table");
    require_no_overlap(out, "out", idx, "indices");
    dispatch(type, [&](auto* tag) {
        using T = std::remove_pointer_t<decltype(tag)>;
        const T* t = const_data<T>(table);
        const std::int64_t* i = const_data<std::int64_t>(idx);
        T* o = mutable_data<T>(out);
        const std::ptrdiff_t rows = table.shape(0), dim = table.shape(1), count = idx.size();
        py::gil_scoped_release release;
        nn::embedding_forward(t, rows, dim, i, count, o);
    });
}

void embedding_backward_binding(const py::object& dy_obj, const py::object& indices_obj,
                                const py::object& dtable_obj) {
    py::array dtable = require_array(dtable_obj, "dtable");
    const FloatType type = require_float_input(dtable, "dtable");
    require_writeable(dtable, "dtable");
    require_ndim(dtable, "dtable", 2);
    py::array idx = checked_indices(indices_obj, dtable.shape(0));
    std::vector<py::ssize_t> shape(idx.shape(), idx.shape() + idx.ndim());
    shape.push_back(dtable.shape(1));
    py::array dy = shaped(dy_obj, "dy", dtable, "dtable", shape);
    require_no_overlap(dtable, "dtable", dy, "dy");
    require_no_overlap(dtable, "dtable", idx, "indices");
    dispatch(type, [&](auto* tag) {
        using T = std::remove_pointer_t<decltype(tag)>;
        const T* g = const_data<T>(dy);
        const std::int64_t* i = const_data<std::int64_t>(idx);
        T* d = mutable_data<T>(dtable);
        const std::ptrdiff_t rows = dtable.shape(0), dim = dtable.shape(1), count = idx.size();
        py::gil_scoped_release release;
        nn::embedding_backward(g, i, count, rows, dim, d);
    });
}

// The (outer, steps, inner) view of a 3-D pooling input and the (batch, features)
// shape of its output.
struct PoolShape {
    std::ptrdiff_t batch, steps, features;
    bool channels_last;
    std::ptrdiff_t outer() const { return channels_last ? batch : batch * features; }
    std::ptrdiff_t inner() const { return channels_last ? features : 1; }
    std::ptrdiff_t mask_group() const { return channels_last ? 1 : features; }
};

PoolShape pool_shape(const py::array& x, const char* name, const std::string& data_format) {
    if (data_format != "channels_last" && data_format != "channels_first") {
        throw py::value_error("data_format: expected 'channels_last' or 'channels_first', "
                              "received '" + data_format + "'");
    }
    require_ndim(x, name, 3);
    const bool last = data_format == "channels_last";
    return {x.shape(0), x.shape(last ? 1 : 2), x.shape(last ? 2 : 1), last};
}

std::vector<py::ssize_t> pooled_shape(const PoolShape& s) { return {s.batch, s.features}; }

// mask (batch, steps) bool or uint8, or None.
const std::uint8_t* mask_data(const py::object& obj, const PoolShape& s) {
    if (obj.is_none()) return nullptr;
    py::array m = require_array(obj, "mask");
    if (!m.dtype().equal(py::dtype::of<bool>()) &&
        !m.dtype().equal(py::dtype::of<std::uint8_t>())) {
        throw py::type_error("mask: expected dtype bool or uint8, received " + dtype_str(m));
    }
    require_contiguous(m, "mask");
    require_shape(m, "mask", {s.batch, s.steps});
    return static_cast<const std::uint8_t*>(m.data());
}

void global_average_pool_forward_binding(const py::object& x_obj, const py::object& y_obj,
                                         const py::object& mask_obj,
                                         const std::string& data_format) {
    py::array x = require_array(x_obj, "x");
    const FloatType type = require_float_input(x, "x");
    const PoolShape s = pool_shape(x, "x", data_format);
    py::array y = writeable_output(y_obj, "y", x, "x", pooled_shape(s));
    require_no_overlap(y, "y", x, "x");
    const std::uint8_t* mask = mask_data(mask_obj, s);
    if (mask) require_no_overlap(y, "y", mask_obj.cast<py::array>(), "mask");
    dispatch(type, [&](auto* tag) {
        using T = std::remove_pointer_t<decltype(tag)>;
        const T* xd = const_data<T>(x);
        T* yd = mutable_data<T>(y);
        py::gil_scoped_release release;
        nn::global_average_pool_forward(xd, mask, s.outer(), s.steps, s.inner(), s.mask_group(),
                                        yd);
    });
}

void global_average_pool_backward_binding(const py::object& dy_obj, const py::object& dx_obj,
                                          const py::object& mask_obj,
                                          const std::string& data_format) {
    py::array dx = require_array(dx_obj, "dx");
    const FloatType type = require_float_input(dx, "dx");
    require_writeable(dx, "dx");
    const PoolShape s = pool_shape(dx, "dx", data_format);
    py::array dy = shaped(dy_obj, "dy", dx, "dx", pooled_shape(s));
    require_no_overlap(dx, "dx", dy, "dy");
    const std::uint8_t* mask = mask_data(mask_obj, s);
    if (mask) require_no_overlap(dx, "dx", mask_obj.cast<py::array>(), "mask");
    dispatch(type, [&](auto* tag) {
        using T = std::remove_pointer_t<decltype(tag)>;
        const T* g = const_data<T>(dy);
        T* d = mutable_data<T>(dx);
        py::gil_scoped_release release;
        nn::global_average_pool_backward(g, mask, s.outer(), s.steps, s.inner(), s.mask_group(),
                                         d);
    });
}

void global_max_pool_forward_binding(const py::object& x_obj, const py::object& y_obj,
                                     const py::object& argmax_obj,
                                     const std::string& data_format) {
    py::array x = require_array(x_obj, "x");
    const FloatType type = require_float_input(x, "x");
    const PoolShape s = pool_shape(x, "x", data_format);
    if (s.steps < 1) {
        throw py::value_error("x: expected at least one step to take the maximum of, received "
                              "shape " + shape_str(x));
    }
    py::array y = writeable_output(y_obj, "y", x, "x", pooled_shape(s));
    py::array argmax = require_array(argmax_obj, "argmax");
    require_dtype<std::int64_t>(argmax, "argmax");
    require_contiguous(argmax, "argmax");
    require_writeable(argmax, "argmax");
    require_shape(argmax, "argmax", {s.batch, s.features});
    require_no_overlap(y, "y", x, "x");
    require_no_overlap(argmax, "argmax", x, "x");
    require_no_overlap(argmax, "argmax", y, "y");
    dispatch(type, [&](auto* tag) {
        using T = std::remove_pointer_t<decltype(tag)>;
        const T* xd = const_data<T>(x);
        T* yd = mutable_data<T>(y);
        std::int64_t* at = mutable_data<std::int64_t>(argmax);
        py::gil_scoped_release release;
        nn::global_max_pool_forward(xd, s.outer(), s.steps, s.inner(), yd, at);
    });
}

void global_max_pool_backward_binding(const py::object& dy_obj, const py::object& argmax_obj,
                                      const py::object& dx_obj, const std::string& data_format) {
    py::array dx = require_array(dx_obj, "dx");
    const FloatType type = require_float_input(dx, "dx");
    require_writeable(dx, "dx");
    const PoolShape s = pool_shape(dx, "dx", data_format);
    py::array dy = shaped(dy_obj, "dy", dx, "dx", pooled_shape(s));
    py::array argmax = require_array(argmax_obj, "argmax");
    require_dtype<std::int64_t>(argmax, "argmax");
    require_contiguous(argmax, "argmax");
    require_shape(argmax, "argmax", {s.batch, s.features});
    // The steps are write positions: every one must be in range.
    const std::ptrdiff_t bad = nn::find_bad_index(const_data<std::int64_t>(argmax),
                                                  argmax.size(), s.steps);
    if (bad >= 0) {
        throw py::value_error("argmax: expected steps in [0, " + std::to_string(s.steps) +
                              "), received " +
                              std::to_string(const_data<std::int64_t>(argmax)[bad]) +
                              " at position " + position_str(argmax, bad));
    }
    require_no_overlap(dx, "dx", dy, "dy");
    require_no_overlap(dx, "dx", argmax, "argmax");
    dispatch(type, [&](auto* tag) {
        using T = std::remove_pointer_t<decltype(tag)>;
        const T* g = const_data<T>(dy);
        const std::int64_t* at = const_data<std::int64_t>(argmax);
        T* d = mutable_data<T>(dx);
        py::gil_scoped_release release;
        nn::global_max_pool_backward(g, at, s.outer(), s.steps, s.inner(), d);
    });
}

}  // namespace

void bind_sequence(py::module_& m) {
    m.def("embedding_forward", &embedding_forward_binding, py::arg("table"), py::arg("indices"),
          py::arg("out"),
          R"doc(out[..., :] = table[indices[...], :].

table (input_dim, dim) float32/float64; indices int64 of any shape, each in
[0, input_dim) (checked first: ValueError naming the first offender and its
position); out (*indices.shape, dim).)doc");
    m.def("embedding_backward", &embedding_backward_binding, py::arg("dy"), py::arg("indices"),
          py::arg("dtable"),
          R"doc(dtable = 0, then dtable[indices[i]] += dy[i] for every i in order (the
scatter-add of repeated indices; deterministic at any thread count, no atomics).
dy (*indices.shape, dim), dtable (input_dim, dim).)doc");
    m.def("global_average_pool_forward", &global_average_pool_forward_binding, py::arg("x"),
          py::arg("y"), py::arg("mask") = py::none(), py::arg("data_format") = "channels_last",
          R"doc(y = mean of x over its steps axis (x (batch, steps, features) channels_last,
(batch, features, steps) channels_first; y (batch, features)). mask (batch,
steps) bool/uint8: mean over the kept steps (NaN when none is kept, as Keras 3).)doc");
    m.def("global_average_pool_backward", &global_average_pool_backward_binding, py::arg("dy"),
          py::arg("dx"), py::arg("mask") = py::none(), py::arg("data_format") = "channels_last",
          "dx = dy spread evenly over the (kept) steps.");
    m.def("global_max_pool_forward", &global_max_pool_forward_binding, py::arg("x"),
          py::arg("y"), py::arg("argmax"), py::arg("data_format") = "channels_last",
          R"doc(y = max of x over its steps axis; argmax (batch, features) int64 receives
the step of the first maximum (NaN counts as the maximum).)doc");
    m.def("global_max_pool_backward", &global_max_pool_backward_binding, py::arg("dy"),
          py::arg("argmax"), py::arg("dx"), py::arg("data_format") = "channels_last",
          "dx = 0 except at each argmax step, which receives dy (argmax checked in range).");
}

}  // namespace pydl::bind
