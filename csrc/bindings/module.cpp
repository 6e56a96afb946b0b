#include "bindings/bindings.h"

PYBIND11_MODULE(_core, m) {
    m.doc() = "pydl's compiled core: GEMM, dense layers, activations, losses, optimizers";
    pydl::bind::bind_config(m);
    pydl::bind::bind_gemm(m);
    pydl::bind::bind_activations(m);
    pydl::bind::bind_losses(m);
    pydl::bind::bind_optimizers(m);
    pydl::bind::bind_data(m);
    pydl::bind::bind_update(m);
    pydl::bind::bind_rules(m);
    pydl::bind::bind_plan(m);
    pydl::bind::bind_normalization(m);
    pydl::bind::bind_sequence(m);
}
