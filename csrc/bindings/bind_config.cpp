#include <string>
#include <vector>

#include <pybind11/stl.h>

#include "bindings/bindings.h"
#include "cpu/isa.h"
#include "cpu/threads.h"

namespace pydl::bind {
namespace py = pybind11;

namespace {
std::string compiler_string() {
#if defined(__clang__)
    return std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
    return "gcc " + std::to_string(__GNUC__) + "." + std::to_string(__GNUC_MINOR__) + "." +
           std::to_string(__GNUC_PATCHLEVEL__);
#else
    return "unknown";
#endif
}

std::vector<std::string> simd_compiled() {
    std::vector<std::string> out;
    std::string all = PYDL_SIMD_COMPILED;
    size_t start = 0;
    while (start <= all.size()) {
        size_t comma = all.find(',', start);
        if (comma == std::string::npos) comma = all.size();
        if (comma > start) out.push_back(all.substr(start, comma - start));
        start = comma + 1;
    }
    return out;
}

Isa isa_from_name(const std::string& name, const char* arg) {
    Isa isa;
    if (!parse_isa(name.c_str(), &isa)) {
        throw py::value_error(std::string(arg) +
                              ": expected one of 'generic', 'avx2', 'avx512', received '" + name + "'");
    }
    return isa;
}
}  // namespace

void bind_config(py::module_& m) {
    m.def("build_info", [] {
        py::dict d;
        d["version"] = PYDL_VERSION;
        d["compiler"] = compiler_string();
        d["simd_compiled"] = simd_compiled();
        d["openmp"] = openmp_enabled();
        d["max_threads"] = max_threads();
        return d;
    }, "Facts fixed when the core was built.");
    m.def("detected_isa", [] { return std::string(isa_name(detected_isa())); },
          "Best SIMD path this CPU supports.");
    m.def("active_isa", [] { return std::string(isa_name(active_isa())); },
          "SIMD path whose kernels are installed.");
    m.def("select_isa", [](const std::string& cap) {
        return std::string(isa_name(select_isa(isa_from_name(cap, "cap"))));
    }, py::arg("cap"), "Installs min(cap, detected) kernels everywhere; returns the path chosen.");
    m.def("set_num_threads", [](py::object n) {
        if (py::isinstance<py::bool_>(n) || !py::isinstance<py::int_>(n)) {
            throw py::type_error("n: expected an int >= 1, received " +
                                 py::str(py::type::of(n).attr("__name__")).cast<std::string>());
        }
        long long v = n.cast<long long>();
        if (v < 1 || v > 4096) {
            throw py::value_error("n: expected an int between 1 and 4096, received " + std::to_string(v));
        }
        set_num_threads(static_cast<int>(v));
    }, py::arg("n"));
    m.def("get_num_threads", [] { return num_threads(); });
}

}  // namespace pydl::bind
