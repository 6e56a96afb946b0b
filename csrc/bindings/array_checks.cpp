#include "bindings/array_checks.h"

#include <cstdint>
#include <sstream>

namespace pydl::bind {

std::string shape_str(const py::array& a) {
    std::ostringstream s;
    s << "(";
    for (py::ssize_t i = 0; i < a.ndim(); ++i) {
        if (i) s << ", ";
        s << a.shape(i);
    }
    if (a.ndim() == 1) s << ",";
    s << ")";
    return s.str();
}

std::string dtype_str(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

py::array require_array(const py::handle& obj, const char* name) {
    if (!py::isinstance<py::array>(obj)) {
        throw py::type_error(std::string(name) + ": expected a numpy.ndarray, received " +
                             py::str(py::type::of(obj).attr("__name__")).cast<std::string>());
    }
    return py::reinterpret_borrow<py::array>(obj);
}

FloatType require_float(const py::array& a, const char* name) {
    if (a.dtype().is(py::dtype::of<float>())) return FloatType::f32;
    if (a.dtype().is(py::dtype::of<double>())) return FloatType::f64;
    // dtype objects may be equal without being identical (e.g. byte order '=' vs '<').
    if (a.dtype().equal(py::dtype::of<float>())) return FloatType::f32;
    if (a.dtype().equal(py::dtype::of<double>())) return FloatType::f64;
    throw py::type_error(std::string(name) + ": expected dtype float32 or float64, received " +
                         dtype_str(a));
}

template <class T>
void require_dtype(const py::array& a, const char* name) {
    if (!a.dtype().equal(py::dtype::of<T>())) {
        throw py::type_error(std::string(name) + ": expected dtype " +
                             py::str(py::dtype::of<T>()).cast<std::string>() + ", received " +
                             dtype_str(a));
    }
}
template void require_dtype<float>(const py::array&, const char*);
template void require_dtype<double>(const py::array&, const char*);
template void require_dtype<std::int64_t>(const py::array&, const char*);
template void require_dtype<std::int32_t>(const py::array&, const char*);

void require_same_dtype(const py::array& a, const char* name, const py::array& like,
                        const char* like_name) {
    if (!a.dtype().equal(like.dtype())) {
        throw py::type_error(std::string(name) + ": expected dtype " + dtype_str(like) +
                             " (the dtype of " + like_name + "), received " + dtype_str(a));
    }
}

void require_contiguous(const py::array& a, const char* name) {
    const int flags = py::array::c_style;
    if (!(a.flags() & flags)) {
        throw py::value_error(std::string(name) +
                              ": expected a C-contiguous array, received one with strides " +
                              [&] {
                                  std::ostringstream s;
                                  s << "(";
                                  for (py::ssize_t i = 0; i < a.ndim(); ++i)
                                      s << (i ? ", " : "") << a.strides(i);
                                  s << ")";
                                  return s.str();
                              }() + " (use numpy.ascontiguousarray)");
    }
    if (reinterpret_cast<std::uintptr_t>(a.data()) % a.itemsize() != 0) {
        throw py::value_error(std::string(name) + ": expected an aligned array");
    }
}

void require_writeable(const py::array& a, const char* name) {
    if (!a.writeable()) {
        throw py::value_error(std::string(name) + ": expected a writeable array, received a read-only one");
    }
}

void require_ndim(const py::array& a, const char* name, int ndim) {
    if (a.ndim() != ndim) {
        throw py::value_error(std::string(name) + ": expected a " + std::to_string(ndim) +
                              "-D array, received shape " + shape_str(a));
    }
}

void require_shape(const py::array& a, const char* name, std::initializer_list<py::ssize_t> shape) {
    bool ok = a.ndim() == static_cast<py::ssize_t>(shape.size());
    py::ssize_t i = 0;
    for (py::ssize_t want : shape) {
        if (!ok) break;
        if (want >= 0 && a.shape(i) != want) ok = false;
        ++i;
    }
    if (!ok) {
        std::ostringstream s;
        s << "(";
        i = 0;
        for (py::ssize_t want : shape) {
            s << (i++ ? ", " : "");
            if (want >= 0) s << want; else s << "*";
        }
        if (shape.size() == 1) s << ",";
        s << ")";
        throw py::value_error(std::string(name) + ": expected shape " + s.str() + ", received " +
                              shape_str(a));
    }
}

void require_no_overlap(const py::array& a, const char* a_name, const py::array& b,
                        const char* b_name) {
    const auto* a0 = static_cast<const char*>(a.data());
    const auto* b0 = static_cast<const char*>(b.data());
    const auto* a1 = a0 + a.nbytes();
    const auto* b1 = b0 + b.nbytes();
    if (a.nbytes() > 0 && b.nbytes() > 0 && a0 < b1 && b0 < a1) {
        throw py::value_error(std::string(a_name) + " and " + b_name +
                              ": expected arrays that do not share memory");
    }
}

}  // namespace pydl::bind
