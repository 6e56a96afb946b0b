#include "bindings/bindings.h"

namespace pydl::bind {
void bind_plan(pybind11::module_& m) {}  // filled in by the plan area
}  // namespace pydl::bind
