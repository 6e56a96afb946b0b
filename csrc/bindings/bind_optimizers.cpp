#include "bindings/bindings.h"

namespace pydl::bind {
void bind_optimizers(pybind11::module_& m) {}  // filled in by the optimizers area
}  // namespace pydl::bind
