// Whether float data holds no NaN and no infinity: fit's check of its inputs,
// which runs on every call over the whole data set, so it must cost about one
// read of the data and allocate nothing.
#pragma once

#include <cstddef>

namespace pydl::nn {

// True when every x[i] is finite. Parallel over fixed blocks; the answer does
// not depend on the order in which blocks are looked at.
template <class T>
bool all_finite(const T* x, std::ptrdiff_t n);

}  // namespace pydl::nn
