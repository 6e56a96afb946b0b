// Inverted dropout, the one rule both training paths use (pydl.ops.dropout on the
// tape, the Dropout node of the fused plan):
//
//   out[i] = v[i] * mask[i],  mask[i] = T(u[i] >= threshold) * scale
//
// with u the layer generator's float32 uniforms in [0, 1), threshold = float32(rate)
// and scale = T(1 / (1 - rate)). Forward (v = x) and backward (v = dy) alike. A
// product, not a select: an inf or NaN in v stays NaN where it is dropped. Element-
// wise, so any split over threads gives the same bits.
#pragma once

#include <cstddef>

namespace pydl::nn {

template <class T>
void dropout_apply(const T* v, const float* u, float threshold, T scale, T* out,
                   std::ptrdiff_t n);

}  // namespace pydl::nn
