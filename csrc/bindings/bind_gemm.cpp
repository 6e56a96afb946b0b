#include "bindings/bindings.h"

namespace pydl::bind {
void bind_gemm(pybind11::module_& m) {}  // filled in by the gemm area
}  // namespace pydl::bind
