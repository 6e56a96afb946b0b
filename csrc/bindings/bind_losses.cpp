#include "bindings/bindings.h"

namespace pydl::bind {
void bind_losses(pybind11::module_& m) {}  // filled in by the losses area
}  // namespace pydl::bind
