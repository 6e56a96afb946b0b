// Embedding lookup and its gradient on raw row-major arrays: the functions behind
// `_core.embedding_forward` / `_core.embedding_backward`, callable directly by a
// training-plan node (caller-given buffers, no allocation).
//
// table (input_dim, dim); indices (count) int64, each in [0, input_dim): callers
// check first (find_bad_index in nn/gather.h; the kernels do not).
#pragma once

#include <cstddef>
#include <cstdint>

namespace pydl::nn {

// out row i = table row indices[i] (out (count, dim)). Parallel over rows.
template <class T>
void embedding_forward(const T* table, std::ptrdiff_t input_dim, std::ptrdiff_t dim,
                       const std::int64_t* indices, std::ptrdiff_t count, T* out);

// dtable = 0, then dtable row indices[i] += dy row i for i = 0, 1, ... in order:
// the scatter-add of repeated indices. Deterministic without atomics: the table's
// rows are split among the threads, each thread zeroes its rows and adds, in index
// order, the dy rows that land in them; every table row therefore sums its
// contributions in increasing i whatever the thread count. dy (count, dim),
// dtable (input_dim, dim), no overlap.
template <class T>
void embedding_backward(const T* dy, const std::int64_t* indices, std::ptrdiff_t count,
                        std::ptrdiff_t input_dim, std::ptrdiff_t dim, T* dtable);

}  // namespace pydl::nn
