// gemm, matmul, dense_forward, dense_backward (docs/core_api.md, "GEMM and Dense").
#include <time.h>

#include <chrono>
#include <string>

#include "bindings/array_checks.h"
#include "bindings/bindings.h"
#include "gemm/gemm.h"
#include "gemm/peak.h"
#include "nn/activation.h"
#include "nn/dense.h"

namespace pydl::bind {
namespace py = pybind11;

namespace {

using nn::Activation;

Activation activation_arg(const std::string& name, const char* arg) {
    Activation act;
    if (!nn::parse_activation(name, &act)) {
        throw py::value_error(std::string(arg) + ": expected one of " + nn::activation_names() +
                              ", received '" + name + "'");
    }
    return act;
}

// An optional argument: None, or an array checked like the others.
bool present(const py::object& obj) { return !obj.is_none(); }

// A float input of the dtype of `like` (contiguous, given shape).
py::array input_like(const py::object& obj, const char* name, const py::array& like,
                     const char* like_name, std::initializer_list<py::ssize_t> shape) {
    py::array a = require_array(obj, name);
    require_float(a, name);
    require_same_dtype(a, name, like, like_name);
    require_contiguous(a, name);
    require_shape(a, name, shape);
    return a;
}

py::array output_like(const py::object& obj, const char* name, const py::array& like,
                      const char* like_name, std::initializer_list<py::ssize_t> shape) {
    py::array a = require_array(obj, name);
    require_float(a, name);
    require_output(a, name, like, like_name);
    require_shape(a, name, shape);
    return a;
}

// bf16=True: the products read bfloat16-rounded operands (gemm/bf16.h); float32 only.
gemm::Operands operands_arg(bool bf16, FloatType ft) {
    if (bf16 && ft != FloatType::f32) {
        throw py::type_error("bf16: bfloat16 operands need float32 arrays, received float64 "
                             "(pass bf16=False)");
    }
    return bf16 ? gemm::Operands::bf16 : gemm::Operands::as_is;
}

template <class T>
const T* ptr_or_null(const py::object& obj) {
    return obj.is_none() ? nullptr : const_data<T>(py::reinterpret_borrow<py::array>(obj));
}
template <class T>
T* mut_or_null(const py::object& obj) {
    if (obj.is_none()) return nullptr;
    py::array a = py::reinterpret_borrow<py::array>(obj);
    return mutable_data<T>(a);
}

void gemm_binding(const py::object& a_obj, const py::object& b_obj, const py::object& out_obj,
                  bool trans_a, bool trans_b, const py::object& bias_obj,
                  const std::string& activation, double alpha, bool accumulate, bool bf16) {
    py::array a = require_array(a_obj, "a");
    const FloatType ft = require_float_input(a, "a");
    const gemm::Operands operands = operands_arg(bf16, ft);
    require_ndim(a, "a", 2);
    py::array b = input_like(b_obj, "b", a, "a", {-1, -1});
    const py::ssize_t m = trans_a ? a.shape(1) : a.shape(0);
    const py::ssize_t k = trans_a ? a.shape(0) : a.shape(1);
    const py::ssize_t n = trans_b ? b.shape(0) : b.shape(1);
    const py::ssize_t kb = trans_b ? b.shape(1) : b.shape(0);
    if (kb != k) {
        throw py::value_error("b: expected op(b) with " + std::to_string(k) +
                              " rows to match op(a)'s columns, received shape " + shape_str(b) +
                              (trans_b ? " with trans_b=True" : ""));
    }
    py::array out = output_like(out_obj, "out", a, "a", {m, n});
    require_no_overlap(out, "out", a, "a");
    require_no_overlap(out, "out", b, "b");
    const Activation act = activation_arg(activation, "activation");
    py::array bias;
    if (present(bias_obj)) {
        bias = input_like(bias_obj, "bias", a, "a", {n});
        require_no_overlap(out, "out", bias, "bias");
    }
    if (accumulate && (present(bias_obj) || act != Activation::linear)) {
        throw py::value_error(
            "accumulate: expected bias=None and activation='linear' with accumulate=True, received "
            "bias=" + std::string(present(bias_obj) ? "an array" : "None") + ", activation='" +
            activation + "'");
    }
    auto run = [&](auto zero) {
        using T = decltype(zero);
        gemm::Epilogue<T> ep;
        ep.bias = present(bias_obj) ? const_data<T>(bias) : nullptr;
        ep.activation = act;
        ep.alpha = static_cast<T>(alpha);
        ep.accumulate = accumulate;
        const T* pa = const_data<T>(a);
        const T* pb = const_data<T>(b);
        T* pc = mutable_data<T>(out);
        const py::ssize_t lda = a.shape(1), ldb = b.shape(1);
        py::gil_scoped_release release;
        gemm::gemm<T>(trans_a, trans_b, m, n, k, pa, lda, pb, ldb, pc, n, ep, operands);
    };
    if (ft == FloatType::f32) run(0.0f); else run(0.0);
}

py::array matmul_binding(const py::object& a_obj, const py::object& b_obj) {
    py::array a = require_array(a_obj, "a");
    const FloatType ft = require_float_input(a, "a");
    require_ndim(a, "a", 2);
    py::array b = input_like(b_obj, "b", a, "a", {-1, -1});
    if (b.shape(0) != a.shape(1)) {
        throw py::value_error("b: expected shape (" + std::to_string(a.shape(1)) +
                              ", *) to match a's columns, received " + shape_str(b));
    }
    const py::ssize_t m = a.shape(0), k = a.shape(1), n = b.shape(1);
    py::array out(a.dtype(), {m, n});
    auto run = [&](auto zero) {
        using T = decltype(zero);
        const T* pa = const_data<T>(a);
        const T* pb = const_data<T>(b);
        T* pc = mutable_data<T>(out);
        py::gil_scoped_release release;
        gemm::gemm<T>(false, false, m, n, k, pa, k, pb, n, pc, n);
    };
    if (ft == FloatType::f32) run(0.0f); else run(0.0);
    return out;
}

void dense_forward_binding(const py::object& x_obj, const py::object& w_obj,
                           const py::object& b_obj, const std::string& activation,
                           const py::object& y_obj, const py::object& z_obj, double alpha,
                           bool bf16) {
    py::array x = require_array(x_obj, "x");
    const FloatType ft = require_float_input(x, "x");
    const gemm::Operands operands = operands_arg(bf16, ft);
    require_ndim(x, "x", 2);
    const py::ssize_t batch = x.shape(0), in = x.shape(1);
    py::array w = input_like(w_obj, "w", x, "x", {in, -1});
    const py::ssize_t out = w.shape(1);
    if (present(b_obj)) input_like(b_obj, "b", x, "x", {out});
    const Activation act = activation_arg(activation, "activation");
    py::array y = output_like(y_obj, "y", x, "x", {batch, out});
    for (auto [obj, name] : {std::pair{&x_obj, "x"}, {&w_obj, "w"}, {&b_obj, "b"}}) {
        if (present(*obj)) require_no_overlap(y, "y", py::reinterpret_borrow<py::array>(*obj), name);
    }
    if (present(z_obj)) {
        py::array z = output_like(z_obj, "z", x, "x", {batch, out});
        for (auto [obj, name] : {std::pair{&x_obj, "x"}, {&w_obj, "w"}, {&b_obj, "b"}, {&y_obj, "y"}}) {
            if (present(*obj)) require_no_overlap(z, "z", py::reinterpret_borrow<py::array>(*obj), name);
        }
    } else if (nn::needs_preactivation(act)) {
        throw py::value_error("z: expected a (" + std::to_string(batch) + ", " + std::to_string(out) +
                              ") array: activation '" + activation +
                              "' needs the pre-activation for backward, received None");
    }
    auto run = [&](auto zero) {
        using T = decltype(zero);
        const T* px = const_data<T>(x);
        const T* pw = const_data<T>(w);
        const T* pb = ptr_or_null<T>(b_obj);
        T* py_ = mut_or_null<T>(y_obj);
        T* pz = mut_or_null<T>(z_obj);
        py::gil_scoped_release release;
        nn::dense_forward<T>(px, pw, pb, batch, in, out, act, static_cast<T>(alpha), py_, pz,
                             operands);
    };
    if (ft == FloatType::f32) run(0.0f); else run(0.0);
}

void dense_backward_binding(const py::object& x_obj, const py::object& w_obj,
                            const py::object& z_obj, const py::object& y_obj,
                            const py::object& dy_obj, const std::string& activation,
                            const py::object& dz_obj, const py::object& dx_obj,
                            const py::object& dw_obj, const py::object& db_obj, double alpha,
                            bool bf16) {
    py::array x = require_array(x_obj, "x");
    const FloatType ft = require_float_input(x, "x");
    const gemm::Operands operands = operands_arg(bf16, ft);
    require_ndim(x, "x", 2);
    const py::ssize_t batch = x.shape(0), in = x.shape(1);
    py::array w = input_like(w_obj, "w", x, "x", {in, -1});
    const py::ssize_t out = w.shape(1);
    const Activation act = activation_arg(activation, "activation");
    const bool need_z = nn::needs_preactivation(act);
    const bool need_y = !need_z && act != Activation::linear;
    if (present(z_obj)) input_like(z_obj, "z", x, "x", {batch, out});
    else if (need_z)
        throw py::value_error("z: expected a (" + std::to_string(batch) + ", " + std::to_string(out) +
                              ") array for activation '" + activation + "', received None");
    if (present(y_obj)) input_like(y_obj, "y", x, "x", {batch, out});
    else if (need_y)
        throw py::value_error("y: expected a (" + std::to_string(batch) + ", " + std::to_string(out) +
                              ") array for activation '" + activation + "', received None");
    py::array dy = input_like(dy_obj, "dy", x, "x", {batch, out});
    py::array dz = output_like(dz_obj, "dz", x, "x", {batch, out});
    py::array dw = output_like(dw_obj, "dw", x, "x", {in, out});
    const bool same_dz_dy = dz.data() == dy.data();
    if (!same_dz_dy) require_no_overlap(dz, "dz", dy, "dy");
    // Everything read after it is written must not share its memory.
    struct Named { const py::object* obj; const char* name; };
    const Named inputs[] = {{&x_obj, "x"}, {&w_obj, "w"}, {&z_obj, "z"}, {&y_obj, "y"}};
    auto no_overlap_with_inputs = [&](const py::array& o, const char* oname) {
        for (const Named& in_arg : inputs)
            if (present(*in_arg.obj))
                require_no_overlap(o, oname, py::reinterpret_borrow<py::array>(*in_arg.obj), in_arg.name);
    };
    no_overlap_with_inputs(dz, "dz");
    no_overlap_with_inputs(dw, "dw");
    require_no_overlap(dw, "dw", dz, "dz");
    require_no_overlap(dw, "dw", dy, "dy");
    if (present(dx_obj)) {
        py::array dx = output_like(dx_obj, "dx", x, "x", {batch, in});
        no_overlap_with_inputs(dx, "dx");
        require_no_overlap(dx, "dx", dz, "dz");
        require_no_overlap(dx, "dx", dy, "dy");
        require_no_overlap(dx, "dx", dw, "dw");
    }
    if (present(db_obj)) {
        py::array db = output_like(db_obj, "db", x, "x", {out});
        no_overlap_with_inputs(db, "db");
        require_no_overlap(db, "db", dz, "dz");
        require_no_overlap(db, "db", dy, "dy");
        require_no_overlap(db, "db", dw, "dw");
        if (present(dx_obj)) require_no_overlap(db, "db", py::reinterpret_borrow<py::array>(dx_obj), "dx");
    }
    auto run = [&](auto zero) {
        using T = decltype(zero);
        const T* px = const_data<T>(x);
        const T* pw = const_data<T>(w);
        const T* pz = ptr_or_null<T>(z_obj);
        const T* py_ = ptr_or_null<T>(y_obj);
        const T* pdy = const_data<T>(dy);
        T* pdz = mutable_data<T>(dz);
        T* pdx = mut_or_null<T>(dx_obj);
        T* pdw = mutable_data<T>(dw);
        T* pdb = mut_or_null<T>(db_obj);
        py::gil_scoped_release release;
        nn::dense_backward<T>(px, pw, pz, py_, pdy, batch, in, out, act, static_cast<T>(alpha), pdz,
                              pdx, pdw, pdb, operands);
    };
    if (ft == FloatType::f32) run(0.0f); else run(0.0);
}

}  // namespace

void bind_gemm(py::module_& m) {
    m.def("gemm", &gemm_binding, py::arg("a"), py::arg("b"), py::arg("out"),
          py::arg("trans_a") = false, py::arg("trans_b") = false, py::arg("bias") = py::none(),
          py::arg("activation") = "linear", py::arg("alpha") = 0.0, py::arg("accumulate") = false,
          py::arg("bf16") = false,
          "out = act(op(a) @ op(b) + bias), or out += op(a) @ op(b) when accumulate; bf16: "
          "a and b rounded to bfloat16, float32 sums (float32 only).");
    m.def("matmul", &matmul_binding, py::arg("a"), py::arg("b"), "A new array a @ b (2-D).");
    m.def("dense_forward", &dense_forward_binding, py::arg("x"), py::arg("w"), py::arg("b"),
          py::arg("activation"), py::arg("y"), py::arg("z") = py::none(), py::arg("alpha") = 0.0,
          py::arg("bf16") = false,
          "z = x @ w + b, y = act(z) (z may be None unless the activation needs it); bf16: the "
          "product reads x and w rounded to bfloat16.");
    m.def("dense_backward", &dense_backward_binding, py::arg("x"), py::arg("w"), py::arg("z"),
          py::arg("y"), py::arg("dy"), py::arg("activation"), py::arg("dz"), py::arg("dx"),
          py::arg("dw"), py::arg("db"), py::arg("alpha") = 0.0, py::arg("bf16") = false,
          "dz = dy * act'(.), dw = x.T @ dz, db = dz.sum(0), dx = dz @ w.T; bf16: the products "
          "read x, w and dz rounded to bfloat16.");
    m.def("_gemm_tile_grid", [](py::ssize_t m, py::ssize_t n, py::ssize_t k, int threads,
                                const std::string& dtype, bool trans_b) {
        if (m < 0 || n < 0 || k < 0 || threads < 1) {
            throw py::value_error("m, n, k: expected sizes >= 0 and threads >= 1, received " +
                                  std::to_string(m) + ", " + std::to_string(n) + ", " +
                                  std::to_string(k) + " and " + std::to_string(threads));
        }
        gemm::TileGrid g;
        if (dtype == "float32") {
            g = gemm::gemm_tile_grid<float>(trans_b, m, n, k, threads);
        } else if (dtype == "float64") {
            g = gemm::gemm_tile_grid<double>(trans_b, m, n, k, threads);
        } else if (dtype == "bfloat16") {
            g = gemm::gemm_tile_grid<float>(trans_b, m, n, k, threads, gemm::Operands::bf16);
        } else {
            throw py::value_error("dtype: expected 'float32', 'float64' or 'bfloat16', received '" +
                                  dtype + "'");
        }
        return py::make_tuple(g.gm, g.gn, g.threads);
    }, py::arg("m"), py::arg("n"), py::arg("k"), py::arg("threads"), py::arg("dtype") = "float32",
       py::arg("trans_b") = false,
       "Diagnostics: (tiles down M, tiles across N, threads) of the GEMM driver's split of an "
       "(m x k) . (k x n) product at `threads` threads.");
    m.def("gemm_kernel_name", [](const std::string& dtype) {
        if (dtype == "float32") return std::string(gemm::gemm_kernel_name<float>());
        if (dtype == "float64") return std::string(gemm::gemm_kernel_name<double>());
        if (dtype == "bfloat16")
            return std::string(gemm::gemm_kernel_name<float>(gemm::Operands::bf16));
        throw py::value_error("dtype: expected 'float32', 'float64' or 'bfloat16', received '" +
                              dtype + "'");
    }, py::arg("dtype"),
          "Name of the GEMM microkernel installed for dtype ('bfloat16': float32 products with "
          "bf16=True; the float32 kernel where no bf16 kernel is installed).");
    m.def("_peak_probe", [](const std::string& kind, long long rounds) {
        gemm::PeakKind k;
        if (kind == "float32") k = gemm::PeakKind::f32_fma;
        else if (kind == "bfloat16") k = gemm::PeakKind::bf16_dot;
        else throw py::value_error("kind: expected 'float32' or 'bfloat16', received '" + kind +
                                   "'");
        if (rounds < 1) {
            throw py::value_error("rounds: expected an int >= 1, received " +
                                  std::to_string(rounds));
        }
        auto cpu_seconds = [] {
            timespec ts{};
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
            return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
        };
        double flops, cpu;
        std::chrono::duration<double> wall;
        {
            py::gil_scoped_release release;
            const auto t0 = std::chrono::steady_clock::now();
            const double c0 = cpu_seconds();
            flops = gemm::peak_probe(k, rounds);
            cpu = cpu_seconds() - c0;
            wall = std::chrono::steady_clock::now() - t0;
        }
        return py::make_tuple(flops, wall.count(), cpu);
    }, py::arg("kind"), py::arg("rounds"),
          "Benchmarks: (flops, wall seconds, thread CPU seconds) of `rounds` rounds of 24 "
          "independent zmm multiply-adds (kind 'float32': VFMADD231PS; 'bfloat16': VDPBF16PS) on "
          "the calling thread; flops is 0 when the active SIMD path lacks the instruction. On a "
          "shared machine flops / CPU seconds is the core's rate while it ran.");
    m.def("bf16_kernels", [] { return gemm::bf16_kernels_installed(); },
          "Whether bf16=True products run bfloat16 kernels now (AVX512_BF16, not capped by "
          "PYDL_ISA); else they run the float32 kernels.");
}

}  // namespace pydl::bind
