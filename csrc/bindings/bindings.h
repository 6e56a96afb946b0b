// One function per area adds that area's functions to the `pydl._core` module.
#pragma once

#include <pybind11/pybind11.h>

namespace pydl::bind {
void bind_config(pybind11::module_& m);       // build facts, SIMD path, threads
void bind_gemm(pybind11::module_& m);         // gemm, dense forward/backward
void bind_activations(pybind11::module_& m);  // activation forward/backward, vector math
void bind_losses(pybind11::module_& m);       // losses and their gradients
void bind_optimizers(pybind11::module_& m);   // optimizer steps, gradient clipping
void bind_data(pybind11::module_& m);         // batch gather
void bind_update(pybind11::module_& m);       // UpdateRule: one optimizer update of many tensors
void bind_rules(pybind11::module_& m);        // training rules shared by the tape and the plan
void bind_plan(pybind11::module_& m);         // _core.plan: the fused training step of a model graph
void bind_plan_nodes(pybind11::module_& pm);  // _core.plan node specs (called by bind_plan)
void bind_normalization(pybind11::module_& m);  // batch / layer normalization
void bind_sequence(pybind11::module_& m);       // embedding lookup, global pooling
}  // namespace pydl::bind
