// _core.gather_rows: argument checks (including every index) before any copy,
// then nn::gather_rows with the GIL released; _core.all_finite: fit's data check.
#include <cstdint>
#include <string>

#include "bindings/array_checks.h"
#include "bindings/bindings.h"
#include "nn/finite.h"
#include "nn/gather.h"

namespace pydl::bind {

namespace {

// Plain-data dtypes only: bool, signed and unsigned ints, floats, complex.
// (Object arrays hold references; copying their bytes would corrupt counts.)
void require_plain_dtype(const py::array& a, const char* name) {
    const char kind = a.dtype().kind();
    if (kind != 'b' && kind != 'i' && kind != 'u' && kind != 'f' && kind != 'c') {
        throw py::type_error(std::string(name) +
                             ": expected a numeric dtype (float, int, uint, bool), received " +
                             dtype_str(a));
    }
}

void gather_rows_binding(const py::object& src_obj, const py::object& indices_obj,
                         const py::object& out_obj) {
    py::array src = require_array(src_obj, "src");
    require_plain_dtype(src, "src");
    require_contiguous(src, "src");
    if (src.ndim() < 1) {
        throw py::value_error("src: expected an array of shape (N, ...), received shape " +
                              shape_str(src));
    }
    py::array indices = require_array(indices_obj, "indices");
    require_dtype<std::int64_t>(indices, "indices");
    require_contiguous(indices, "indices");
    require_ndim(indices, "indices", 1);
    py::array out = require_array(out_obj, "out");
    require_output(out, "out", src, "src");
    bool shape_ok = out.ndim() == src.ndim() && out.shape(0) == indices.shape(0);
    for (py::ssize_t i = 1; shape_ok && i < src.ndim(); ++i) shape_ok = out.shape(i) == src.shape(i);
    if (!shape_ok) {
        std::string want = "(" + std::to_string(indices.shape(0));
        for (py::ssize_t i = 1; i < src.ndim(); ++i) want += ", " + std::to_string(src.shape(i));
        want += src.ndim() == 1 ? ",)" : ")";
        throw py::value_error("out: expected shape " + want +
                              " (len(indices), *src.shape[1:]), received " + shape_str(out));
    }
    require_no_overlap(out, "out", src, "src");
    require_no_overlap(out, "out", indices, "indices");

    const std::int64_t rows = src.shape(0);
    const std::int64_t* idx = const_data<std::int64_t>(indices);
    const std::ptrdiff_t count = indices.shape(0);
    const std::ptrdiff_t bad = nn::find_bad_index(idx, count, rows);
    if (bad >= 0) {
        throw py::value_error("indices: expected values in [0, " + std::to_string(rows) +
                              ") (the rows of src), received " + std::to_string(idx[bad]) +
                              " at position " + std::to_string(bad));
    }
    const std::size_t row_bytes =
        rows > 0 ? static_cast<std::size_t>(src.nbytes()) / static_cast<std::size_t>(rows) : 0;
    const void* from = src.data();
    void* to = out.mutable_data();
    py::gil_scoped_release release;
    nn::gather_rows(from, row_bytes, idx, count, to);
}

bool all_finite_binding(const py::object& x_obj) {
    return read_float_input(x_obj, "x", [](const auto* data, std::ptrdiff_t n) {
        return nn::all_finite(data, n);
    });
}

}  // namespace

void bind_data(py::module_& m) {
    m.def("all_finite", &all_finite_binding, py::arg("x"),
          "True when the C-contiguous float32/float64 array x has no NaN and no inf "
          "(one read of x, no allocation, GIL released).");
    m.def("gather_rows", &gather_rows_binding, py::arg("src"), py::arg("indices"), py::arg("out"),
          R"doc(out[i] = src[indices[i]] for every i (rows of any numeric dtype).

src (N, ...) C-contiguous; indices int64 (B,), each in [0, N) (checked before
any copy: ValueError); out (B, *src.shape[1:]) of src's dtype, writeable.)doc");
}

}  // namespace pydl::bind
