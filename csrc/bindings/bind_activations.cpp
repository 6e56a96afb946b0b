#include "bindings/bindings.h"

namespace pydl::bind {
void bind_activations(pybind11::module_& m) {}  // filled in by the activations area
}  // namespace pydl::bind
