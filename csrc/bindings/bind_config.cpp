#include <string>
#include <vector>

#include <pybind11/stl.h>

#include "bindings/bindings.h"
#include "cpu/isa.h"
#include "cpu/thread_pool.h"
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
                              ": expected one of 'generic', 'avx2', 'avx512', "
                              "'avx512_bf16', received '" + name + "'");
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
        // OpenMP is no longer linked: the threads are pydl's own pool (cpu/thread_pool.h).
        d["openmp"] = false;
        d["threading"] = threads_enabled() ? "pool" : "serial";
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
    m.def("set_spin_us", [](int us) {
        if (us < 0 || us > 1000000) {
            throw py::value_error("us: expected an int between 0 and 1000000, received " +
                                  std::to_string(us));
        }
        set_spin_us(us);
    }, py::arg("us"), "How long idle pool threads spin before they sleep (microseconds).");
    m.def("get_spin_us", [] { return spin_us(); });
    m.def("pool_workers", [] { return pool_workers(); }, "Worker threads started so far.");
    m.def("_pool_stats", [] {
        py::dict d;
        const PoolCounts c = pool_counts();
        d["workers"] = pool_workers();
        d["jobs"] = c.jobs;
        d["caller_chunks"] = c.caller_chunks;
        d["worker_chunks"] = c.worker_chunks;
        d["late_starts"] = c.late_starts;
        d["spinning"] = pool_spinning();
        return d;
    }, "Diagnostics: workers, jobs, chunks run by callers and by workers, late starts (a worker found no free core), whether waits spin now.");
    m.def("_set_test_delay", [](int thread_index, int us) {
        if (us < 0 || us > 1000000) {
            throw py::value_error("us: expected an int between 0 and 1000000, received " +
                                  std::to_string(us));
        }
        set_test_delay(thread_index, us);
    }, py::arg("thread_index"), py::arg("us"),
          "Tests only: the thread with this index (0: the caller, 1..: pool workers) sleeps us "
          "microseconds before each chunk it takes; thread_index < 0 turns it off.");
}

}  // namespace pydl::bind
