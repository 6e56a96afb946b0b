// _core.plan node specs: one class per built-in layer's native form (plan/nodes/).
// Each constructor checks its arguments and keeps the arrays it will update alive
// as long as the node object. Layers build these in their `_plan_node`.
#include <cmath>
#include <string>

#include <pybind11/stl.h>

#include "bindings/array_checks.h"
#include "bindings/bindings.h"
#include "plan/nodes/activation_node.h"
#include "plan/nodes/dense_node.h"
#include "plan/nodes/dropout_node.h"
#include "plan/nodes/merge_node.h"
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

void bind_plan_nodes(py::module_& pm) {
    py::class_<Node, std::shared_ptr<Node>>(pm, "Node",
                                           "The native form of a layer call in a fused plan.")
        .def_property_readonly("description", &Node::describe);

    py::class_<plan::DenseNode, Node, std::shared_ptr<plan::DenseNode>>(
        pm, "Dense", "Dense(kernel, bias=None, activation='linear', alpha=0.0): float32 kernel "
                     "(in, out) and bias (out,), updated in place.")
        .def(py::init([](const py::object& kernel_obj, const py::object& bias_obj,
                         const std::string& activation, double alpha) {
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
                                                          static_cast<float>(alpha));
             }),
             py::arg("kernel"), py::arg("bias") = py::none(), py::arg("activation") = "linear",
             py::arg("alpha") = 0.0, py::keep_alive<1, 2>(), py::keep_alive<1, 3>());

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
}

}  // namespace pydl::bind
