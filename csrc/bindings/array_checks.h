// Argument checks shared by every binding.
//
// The bindings accept exactly what the kernels read: NumPy arrays of the right
// dtype, C-contiguous, aligned, writeable where they are outputs. Nothing is
// converted or copied here (the Python layer converts once at its boundary);
// anything else raises TypeError/ValueError naming the argument, what was
// expected and what came.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <initializer_list>
#include <string>

namespace pydl::bind {

namespace py = pybind11;

enum class FloatType { f32, f64 };

// "(3, 4)"
std::string shape_str(const py::array& a);
// "float32"
std::string dtype_str(const py::array& a);

// Returns `obj` as an array without copying; TypeError if it is not a NumPy array.
py::array require_array(const py::handle& obj, const char* name);
// TypeError unless float32 or float64; returns which.
FloatType require_float(const py::array& a, const char* name);
// TypeError unless a has exactly the dtype T.
template <class T>
void require_dtype(const py::array& a, const char* name);
// TypeError unless a has the same dtype as `like` (named like_name).
void require_same_dtype(const py::array& a, const char* name, const py::array& like,
                        const char* like_name);
// ValueError unless C-contiguous and aligned.
void require_contiguous(const py::array& a, const char* name);
// ValueError unless writeable.
void require_writeable(const py::array& a, const char* name);
// ValueError unless a.ndim == ndim.
void require_ndim(const py::array& a, const char* name, int ndim);
// ValueError unless a.shape matches; -1 in `shape` matches any extent.
void require_shape(const py::array& a, const char* name, std::initializer_list<py::ssize_t> shape);
// ValueError if the byte ranges of a and b overlap (for outputs that must not alias inputs).
void require_no_overlap(const py::array& a, const char* a_name, const py::array& b,
                        const char* b_name);

// The common case: an input array of any dtype-checked float type, contiguous.
inline FloatType require_float_input(const py::array& a, const char* name) {
    FloatType t = require_float(a, name);
    require_contiguous(a, name);
    return t;
}
// An output: contiguous, writeable, same dtype as `like`.
inline void require_output(const py::array& a, const char* name, const py::array& like,
                           const char* like_name) {
    require_same_dtype(a, name, like, like_name);
    require_contiguous(a, name);
    require_writeable(a, name);
}

template <class T>
inline T* mutable_data(py::array& a) {
    return static_cast<T*>(a.mutable_data());
}
template <class T>
inline const T* const_data(const py::array& a) {
    return static_cast<const T*>(a.data());
}

// A whole-array read of a float input: checks `obj` (require_float_input), then
// returns read(data, size) for its float or double data, with the GIL released.
template <class Read>
auto read_float_input(const py::handle& obj, const char* name, Read&& read) {
    py::array x = require_array(obj, name);
    const FloatType type = require_float_input(x, name);
    const std::ptrdiff_t n = x.size();
    if (type == FloatType::f32) {
        const float* data = const_data<float>(x);
        py::gil_scoped_release release;
        return read(data, n);
    }
    const double* data = const_data<double>(x);
    py::gil_scoped_release release;
    return read(data, n);
}

}  // namespace pydl::bind
