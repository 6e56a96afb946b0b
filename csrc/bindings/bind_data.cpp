#include "bindings/bindings.h"

namespace pydl::bind {
void bind_data(pybind11::module_& m) {}  // filled in by the data area
}  // namespace pydl::bind
