// _core.plan node specs: one class per built-in layer's native form (plan/nodes/).
// Each constructor checks its arguments and keeps the arrays it will update alive
// as long as the node object. Layers build these in their `_plan_node`.
#include <cmath>
#include <string>

#include <pybind11/stl.h>

#include "bindings/array_checks.h"
#include "bindings/bindings.h"
#include "plan/nodes/activation_node.h"
#include "plan/nodes/affine_node.h"
#include "plan/nodes/dense_node.h"
#include "plan/nodes/dropout_node.h"
#include "plan/nodes/merge_node.h"
#include "plan/nodes/noise_nodes.h"
#include "plan/nodes/normalization_nodes.h"
#include "plan/nodes/pooling_nodes.h"
#include "plan/nodes/token_nodes.h"
#include "plan/nodes/view_node.h"

namespace pydl::bind {

namespace {

using plan::Node;

std::string num(double v) { return py::str(py::float_(v)).cast<std::string>(); }

// A float32 array the plan updates in place.
py::array owned_f32(const py::handle& obj, const char* name) {
    py::array a = require_array(obj, name);
    require_dtype<float>(a, name);
    require_contiguous(a, name);
    require_writeable(a, name);
    return a;
}

// An optional float32 vector of `n` values the plan reads (nullptr for None).
float* optional_vector(const py::handle& obj, const char* name, py::ssize_t n) {
    if (obj.is_none()) return nullptr;
    py::array a = owned_f32(obj, name);
    require_shape(a, name, {n});
    return mutable_data<float>(a);
}

// A float32 vector the plan only reads (it may be read-only).
const float* constant_vector(const py::handle& obj, const char* name) {
    py::array a = require_array(obj, name);
    require_dtype<float>(a, name);
    require_contiguous(a, name);
    require_ndim(a, name, 1);
    return static_cast<const float*>(a.data());
}

void require_range(double v, double low, double high, const char* name, const char* what) {
    if (!(v >= low && v <= high)) {
        throw py::value_error(std::string(name) + ": expected " + what + ", received " + num(v));
    }
}

nn::Activation activation_arg(const std::string& name, double alpha) {
    nn::Activation act;
    if (!nn::parse_activation(name, &act)) {
        throw py::value_error("activation: expected one of " + std::string(nn::activation_names()) +
                              ", received '" + name + "'");
    }
    if ((act == nn::Activation::leaky_relu || act == nn::Activation::elu) && !(alpha >= 0.0)) {
        throw py::value_error("alpha: expected alpha >= 0 for leaky_relu and elu, received " +
                              num(alpha));
    }
    return act;
}

}  // namespace

void bind_layer_nodes(py::module_& pm);

void bind_plan_nodes(py::module_& pm) {
    py::class_<Node, std::shared_ptr<Node>>(pm, "Node",
                                           "The native form of a layer call in a fused plan.")
        .def_property_readonly("description", &Node::describe);

    py::class_<plan::DenseNode, Node, std::shared_ptr<plan::DenseNode>>(
        pm, "Dense", "Dense(kernel, bias=None, activation='linear', alpha=0.0, bf16=False): "
                     "float32 kernel (in, out) and bias (out,), updated in place; bf16: its "
                     "products read bfloat16-rounded operands (as dense_forward/dense_backward).")
        .def(py::init([](const py::object& kernel_obj, const py::object& bias_obj,
                         const std::string& activation, double alpha, bool bf16) {
                 py::array kernel = owned_f32(kernel_obj, "kernel");
                 require_ndim(kernel, "kernel", 2);
                 float* bias = nullptr;
                 if (!bias_obj.is_none()) {
                     py::array b = owned_f32(bias_obj, "bias");
                     require_shape(b, "bias", {kernel.shape(1)});
                     require_no_overlap(b, "bias", kernel, "kernel");
                     bias = mutable_data<float>(b);
                 }
                 const nn::Activation act = activation_arg(activation, alpha);
                 return std::make_shared<plan::DenseNode>(mutable_data<float>(kernel), bias,
                                                          kernel.shape(0), kernel.shape(1), act,
                                                          static_cast<float>(alpha),
                                                          bf16 ? gemm::Operands::bf16
                                                               : gemm::Operands::as_is);
             }),
             py::arg("kernel"), py::arg("bias") = py::none(), py::arg("activation") = "linear",
             py::arg("alpha") = 0.0, py::arg("bf16") = false, py::keep_alive<1, 2>(),
             py::keep_alive<1, 3>());

    py::class_<plan::ActivationNode, Node, std::shared_ptr<plan::ActivationNode>>(
        pm, "Activation", "Activation(activation, alpha=0.0): over the last axis.")
        .def(py::init([](const std::string& activation, double alpha) {
                 const nn::Activation act = activation_arg(activation, alpha);
                 return std::make_shared<plan::ActivationNode>(act, static_cast<float>(alpha));
             }),
             py::arg("activation"), py::arg("alpha") = 0.0);

    py::class_<plan::DropoutNode, Node, std::shared_ptr<plan::DropoutNode>>(
        pm, "Dropout", "Dropout(rate): inverted dropout with the layer's own uniforms.")
        .def(py::init([](double rate) {
                 if (!(rate > 0.0 && rate < 1.0)) {
                     throw py::value_error("rate: expected a float in (0, 1), received " + num(rate));
                 }
                 return std::make_shared<plan::DropoutNode>(rate);
             }),
             py::arg("rate"));

    py::class_<plan::MergeNode, Node, std::shared_ptr<plan::MergeNode>>(
        pm, "Merge", "Merge(kind): add, subtract, multiply, average, maximum or minimum of "
                     "inputs of one shape, folded pairwise as the tape does.")
        .def(py::init([](const std::string& kind) {
                 static const std::pair<const char*, plan::MergeKind> kinds[] = {
                     {"add", plan::MergeKind::add}, {"subtract", plan::MergeKind::subtract},
                     {"multiply", plan::MergeKind::multiply}, {"average", plan::MergeKind::average},
                     {"maximum", plan::MergeKind::maximum}, {"minimum", plan::MergeKind::minimum}};
                 for (const auto& k : kinds) {
                     if (kind == k.first) return std::make_shared<plan::MergeNode>(k.second);
                 }
                 throw py::value_error("kind: expected one of add, subtract, multiply, average, "
                                       "maximum, minimum, received '" + kind + "'");
             }),
             py::arg("kind"));

    py::class_<plan::ConcatNode, Node, std::shared_ptr<plan::ConcatNode>>(
        pm, "Concatenate", "Concatenate(axis): along a per-sample axis (0 = the first axis "
                           "after the batch).")
        .def(py::init([](std::ptrdiff_t axis) {
                 if (axis < 0) {
                     throw py::value_error("axis: expected a per-sample axis >= 0, received " +
                                           std::to_string(axis));
                 }
                 return std::make_shared<plan::ConcatNode>(axis);
             }),
             py::arg("axis"));

    py::class_<plan::ViewNode, Node, std::shared_ptr<plan::ViewNode>>(
        pm, "Reshape", "Reshape(shape): the same values under another per-sample shape "
                       "(Flatten, Reshape, Identity).")
        .def(py::init([](const std::vector<std::ptrdiff_t>& shape) {
                 for (std::ptrdiff_t d : shape) {
                     if (d < 1) {
                         throw py::value_error("shape: expected dimensions >= 1, received " +
                                               std::to_string(d));
                     }
                 }
                 return std::make_shared<plan::ViewNode>(shape);
             }),
             py::arg("shape"));

    bind_layer_nodes(pm);
}

// The second milestone's layers (docs/core_api.md, "Plan nodes").
void bind_layer_nodes(py::module_& pm) {
    py::class_<plan::BatchNormNode, Node, std::shared_ptr<plan::BatchNormNode>>(
        pm, "BatchNormalization",
        "BatchNormalization(gamma, beta, moving_mean, moving_variance, axis, momentum, epsilon, "
        "training): float32 (channels,) arrays (gamma / beta may be None) over the sample axis "
        "`axis` (0 = the first after the batch); training: batch statistics and the moving ones "
        "updated in place, else the moving statistics.")
        .def(py::init([](const py::object& gamma, const py::object& beta, const py::object& mm,
                         const py::object& mv, std::ptrdiff_t axis, double momentum,
                         double epsilon, bool training) {
                 py::array mean = owned_f32(mm, "moving_mean");
                 require_ndim(mean, "moving_mean", 1);
                 const py::ssize_t c = mean.shape(0);
                 float* variance = optional_vector(mv, "moving_variance", c);
                 if (!variance) {
                     throw py::type_error("moving_variance: expected an array, received None");
                 }
                 if (axis < 0) {
                     throw py::value_error("axis: expected a sample axis >= 0, received " +
                                           std::to_string(axis));
                 }
                 require_range(momentum, 0.0, 1.0, "momentum", "a number in [0, 1]");
                 if (!(epsilon > 0.0)) {
                     throw py::value_error("epsilon: expected a number > 0, received " + num(epsilon));
                 }
                 return std::make_shared<plan::BatchNormNode>(
                     optional_vector(gamma, "gamma", c), optional_vector(beta, "beta", c),
                     mutable_data<float>(mean), variance, c, axis, momentum, epsilon, training);
             }),
             py::arg("gamma"), py::arg("beta"), py::arg("moving_mean"), py::arg("moving_variance"),
             py::arg("axis"), py::arg("momentum"), py::arg("epsilon"), py::arg("training"),
             py::keep_alive<1, 2>(), py::keep_alive<1, 3>(), py::keep_alive<1, 4>(),
             py::keep_alive<1, 5>());

    py::class_<plan::LayerNormNode, Node, std::shared_ptr<plan::LayerNormNode>>(
        pm, "LayerNormalization",
        "LayerNormalization(gamma, beta, axes, epsilon, rms_scaling): over the last `axes` "
        "sample axes; gamma / beta float32 vectors (the normalized values, flattened), or None.")
        .def(py::init([](const py::object& gamma, const py::object& beta, std::ptrdiff_t axes,
                         double epsilon, bool rms_scaling) {
                 py::ssize_t size = 0;
                 for (const py::object* o : {&gamma, &beta}) {
                     if (o->is_none()) continue;
                     py::array a = require_array(*o, o == &gamma ? "gamma" : "beta");
                     require_ndim(a, o == &gamma ? "gamma" : "beta", 1);
                     size = a.shape(0);
                 }
                 if (axes < 1) {
                     throw py::value_error("axes: expected >= 1 trailing axes, received " +
                                           std::to_string(axes));
                 }
                 if (!(epsilon > 0.0)) {
                     throw py::value_error("epsilon: expected a number > 0, received " + num(epsilon));
                 }
                 return std::make_shared<plan::LayerNormNode>(
                     optional_vector(gamma, "gamma", size), optional_vector(beta, "beta", size),
                     size, axes, epsilon, rms_scaling);
             }),
             py::arg("gamma"), py::arg("beta"), py::arg("axes"), py::arg("epsilon"),
             py::arg("rms_scaling") = false, py::keep_alive<1, 2>(), py::keep_alive<1, 3>());

    py::class_<plan::UnitNormNode, Node, std::shared_ptr<plan::UnitNormNode>>(
        pm, "UnitNormalization", "UnitNormalization(axes, epsilon=1e-12): L2 normalization "
                                 "over the last `axes` sample axes.")
        .def(py::init([](std::ptrdiff_t axes, double epsilon) {
                 if (axes < 1) {
                     throw py::value_error("axes: expected >= 1 trailing axes, received " +
                                           std::to_string(axes));
                 }
                 if (!(epsilon > 0.0)) {
                     throw py::value_error("epsilon: expected a number > 0, received " + num(epsilon));
                 }
                 return std::make_shared<plan::UnitNormNode>(axes, epsilon);
             }),
             py::arg("axes"), py::arg("epsilon") = 1e-12);

    py::class_<plan::EmbeddingNode, Node, std::shared_ptr<plan::EmbeddingNode>>(
        pm, "Embedding", "Embedding(table): a float32 (input_dim, output_dim) table, updated in "
                         "place; the input holds token values, checked by the caller.")
        .def(py::init([](const py::object& table_obj) {
                 py::array table = owned_f32(table_obj, "table");
                 require_ndim(table, "table", 2);
                 return std::make_shared<plan::EmbeddingNode>(mutable_data<float>(table),
                                                              table.shape(0), table.shape(1));
             }),
             py::arg("table"), py::keep_alive<1, 2>());

    py::class_<plan::CategoryEncodingNode, Node, std::shared_ptr<plan::CategoryEncodingNode>>(
        pm, "CategoryEncoding", "CategoryEncoding(num_tokens, mode): multi_hot, count or one_hot "
                                "of token values checked by the caller.")
        .def(py::init([](std::int64_t num_tokens, const std::string& mode) {
                 if (num_tokens < 1) {
                     throw py::value_error("num_tokens: expected an int >= 1, received " +
                                           std::to_string(num_tokens));
                 }
                 nn::CategoryMode m;
                 if (mode == "multi_hot") m = nn::CategoryMode::multi_hot;
                 else if (mode == "count") m = nn::CategoryMode::count;
                 else if (mode == "one_hot") m = nn::CategoryMode::one_hot;
                 else {
                     throw py::value_error("mode: expected one of multi_hot, count, one_hot, "
                                           "received '" + mode + "'");
                 }
                 return std::make_shared<plan::CategoryEncodingNode>(num_tokens, m);
             }),
             py::arg("num_tokens"), py::arg("mode"));

    py::class_<plan::GlobalPoolNode, Node, std::shared_ptr<plan::GlobalPoolNode>>(
        pm, "GlobalPooling1D",
        "GlobalPooling1D(kind, data_format='channels_last', keepdims=False, masked=False): "
        "kind 'average' or 'max' over the steps; masked (average, channels_last): a second "
        "input of tokens, a step kept where its token is not 0.")
        .def(py::init([](const std::string& kind, const std::string& data_format, bool keepdims,
                         bool masked) {
                 if (kind != "average" && kind != "max") {
                     throw py::value_error("kind: expected 'average' or 'max', received '" + kind + "'");
                 }
                 if (data_format != "channels_last" && data_format != "channels_first") {
                     throw py::value_error("data_format: expected 'channels_last' or "
                                           "'channels_first', received '" + data_format + "'");
                 }
                 const bool first = data_format == "channels_first";
                 if (masked && (kind != "average" || first)) {
                     throw py::value_error("masked: only an average over channels_last steps "
                                           "takes a mask");
                 }
                 return std::make_shared<plan::GlobalPoolNode>(kind == "average", first, keepdims,
                                                               masked);
             }),
             py::arg("kind"), py::arg("data_format") = "channels_last",
             py::arg("keepdims") = false, py::arg("masked") = false);

    py::class_<plan::AffineNode, Node, std::shared_ptr<plan::AffineNode>>(
        pm, "Affine",
        "Affine(a, b, first_axis, num_axes, order, std_from_variance=False): order "
        "'scale_shift' (x * a + b) or 'shift_divide' ((x - b) / a) per channel of the sample "
        "axes [first_axis, first_axis + num_axes); a, b float32 vectors (a: the variance when "
        "std_from_variance, the divisor being maximum(sqrt(variance), 1e-7)).")
        .def(py::init([](const py::object& a_obj, const py::object& b_obj,
                         std::ptrdiff_t first_axis, std::ptrdiff_t num_axes,
                         const std::string& order, bool std_from_variance) {
                 const float* a = constant_vector(a_obj, "a");
                 const float* b = constant_vector(b_obj, "b");
                 const py::ssize_t c = require_array(a_obj, "a").size();
                 if (require_array(b_obj, "b").size() != c) {
                     throw py::value_error("b: expected " + std::to_string(c) +
                                           " values (a's size), received " +
                                           std::to_string(require_array(b_obj, "b").size()));
                 }
                 if (first_axis < 0 || num_axes < 0) {
                     throw py::value_error("first_axis, num_axes: expected sample axes >= 0");
                 }
                 nn::AffineOrder o;
                 if (order == "scale_shift") o = nn::AffineOrder::scale_shift;
                 else if (order == "shift_divide") o = nn::AffineOrder::shift_divide;
                 else {
                     throw py::value_error("order: expected 'scale_shift' or 'shift_divide', "
                                           "received '" + order + "'");
                 }
                 return std::make_shared<plan::AffineNode>(a, b, c, first_axis, num_axes, o,
                                                           std_from_variance);
             }),
             py::arg("a"), py::arg("b"), py::arg("first_axis"), py::arg("num_axes"),
             py::arg("order"), py::arg("std_from_variance") = false, py::keep_alive<1, 2>(),
             py::keep_alive<1, 3>());

    py::class_<plan::NoiseNode, Node, std::shared_ptr<plan::NoiseNode>>(
        pm, "Noise",
        "Noise(kind, rate=0.0, a=0.0, a_alpha_p=0.0, b=0.0): 'gaussian_noise' (x + draws), "
        "'gaussian_dropout' (x * draws) or 'alpha_dropout' (uniform draws kept where >= "
        "float32(rate); x * (a * kept) + (a_alpha_p * (1 - kept) + b) in float32).")
        .def(py::init([](const std::string& kind, double rate, double a, double a_alpha_p,
                         double b) {
                 plan::NoiseKind k;
                 if (kind == "gaussian_noise") k = plan::NoiseKind::gaussian_noise;
                 else if (kind == "gaussian_dropout") k = plan::NoiseKind::gaussian_dropout;
                 else if (kind == "alpha_dropout") k = plan::NoiseKind::alpha_dropout;
                 else {
                     throw py::value_error("kind: expected one of gaussian_noise, "
                                           "gaussian_dropout, alpha_dropout, received '" + kind + "'");
                 }
                 if (k == plan::NoiseKind::alpha_dropout) {
                     if (!(rate > 0.0 && rate < 1.0)) {
                         throw py::value_error("rate: expected a float in (0, 1), received " + num(rate));
                     }
                     for (double v : {a, a_alpha_p, b}) {
                         if (!std::isfinite(v)) {
                             throw py::value_error("a, a_alpha_p, b: expected finite numbers");
                         }
                     }
                 }
                 return std::make_shared<plan::NoiseNode>(
                     k, static_cast<float>(rate), static_cast<float>(a),
                     static_cast<float>(a_alpha_p), static_cast<float>(b));
             }),
             py::arg("kind"), py::arg("rate") = 0.0, py::arg("a") = 0.0,
             py::arg("a_alpha_p") = 0.0, py::arg("b") = 0.0);
}

}  // namespace pydl::bind
