// Activation names, and dispatch of the row kernels: float32 goes to the
// installed SIMD path, float64 always to the scalar (C library) path.
#include "nn/activation.h"

#include <type_traits>

#include "cpu/isa.h"
#include "nn/activation_isa.h"
#include "nn/activation_scalar.h"

namespace pydl::nn {
namespace {

struct NamedActivation {
    const char* name;
    Activation act;
};
constexpr NamedActivation kNames[] = {
    {"linear", Activation::linear},         {"relu", Activation::relu},
    {"sigmoid", Activation::sigmoid},       {"tanh", Activation::tanh},
    {"softmax", Activation::softmax},       {"leaky_relu", Activation::leaky_relu},
    {"elu", Activation::elu},               {"selu", Activation::selu},
    {"gelu", Activation::gelu},             {"softplus", Activation::softplus},
    {"silu", Activation::silu},
};

struct F32Kernels {
    ActivationForwardF32 forward;
    ActivationBackwardF32 backward;
};
constexpr F32Kernels kGenericF32 = {scalar::forward_rows<float>, scalar::backward_rows<float>};
F32Kernels g_f32 = kGenericF32;  // constant-initialized: valid before any installer runs

void install(Isa isa) {
    g_f32 = kGenericF32;
#if defined(PYDL_X86)
    if (isa >= Isa::avx2) g_f32 = {avx2::f32_activation_forward, avx2::f32_activation_backward};
    if (isa >= Isa::avx512)
        g_f32 = {avx512::f32_activation_forward, avx512::f32_activation_backward};
#endif
}
PYDL_REGISTER_KERNELS(install);

}  // namespace

bool parse_activation(const std::string& name, Activation* out) {
    for (const NamedActivation& n : kNames) {
        if (name == n.name) {
            *out = n.act;
            return true;
        }
    }
    return false;
}

const char* activation_names() {
    return "linear, relu, sigmoid, tanh, softmax, leaky_relu, elu, selu, gelu, softplus, silu";
}

bool needs_preactivation(Activation act) {
    return act == Activation::gelu || act == Activation::silu;
}

template <class T>
void activation_forward_rows(Activation act, T alpha, const T* x, std::ptrdiff_t ldx, T* y,
                             std::ptrdiff_t ldy, std::ptrdiff_t rows, std::ptrdiff_t cols) {
    if (rows <= 0 || cols <= 0) return;
    if constexpr (std::is_same_v<T, float>) {
        g_f32.forward(act, alpha, x, ldx, y, ldy, rows, cols);
    } else {
        scalar::forward_rows(act, alpha, x, ldx, y, ldy, rows, cols);
    }
}

template <class T>
void activation_backward_rows(Activation act, T alpha, const T* z, const T* y, const T* dy,
                              T* dx, std::ptrdiff_t rows, std::ptrdiff_t cols) {
    if (rows <= 0 || cols <= 0) return;
    if constexpr (std::is_same_v<T, float>) {
        g_f32.backward(act, alpha, z, y, dy, dx, rows, cols);
    } else {
        scalar::backward_rows(act, alpha, z, y, dy, dx, rows, cols);
    }
}

template void activation_forward_rows<float>(Activation, float, const float*, std::ptrdiff_t,
                                             float*, std::ptrdiff_t, std::ptrdiff_t,
                                             std::ptrdiff_t);
template void activation_forward_rows<double>(Activation, double, const double*, std::ptrdiff_t,
                                              double*, std::ptrdiff_t, std::ptrdiff_t,
                                              std::ptrdiff_t);
template void activation_backward_rows<float>(Activation, float, const float*, const float*,
                                              const float*, float*, std::ptrdiff_t,
                                              std::ptrdiff_t);
template void activation_backward_rows<double>(Activation, double, const double*, const double*,
                                               const double*, double*, std::ptrdiff_t,
                                               std::ptrdiff_t);

}  // namespace pydl::nn
