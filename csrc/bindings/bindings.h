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
void bind_plan(pybind11::module_& m);         // fused training step of built-in models
}  // namespace pydl::bind
