// Batch gather: out row i = src row indices[i], for rows of any plain dtype.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pydl::nn {

// Position of the first index outside [0, rows), or -1 when all are valid.
// Callers check before gathering: gather_rows itself does not.
std::ptrdiff_t find_bad_index(const std::int64_t* indices, std::ptrdiff_t count,
                              std::int64_t rows);

// Copies `count` rows of `row_bytes` bytes: out + i * row_bytes receives
// src + indices[i] * row_bytes. Every index must be in range (find_bad_index)
// and out must not overlap src. Parallel over rows when the copy is large.
void gather_rows(const void* src, std::size_t row_bytes, const std::int64_t* indices,
                 std::ptrdiff_t count, void* out);

// Asks the cache for the rows a later gather_rows will copy (at most the first
// `max_bytes` of each), so that their misses overlap the work done before it:
// shuffled rows are scattered, and the hardware prefetcher cannot foresee them.
void prefetch_rows(const void* src, std::size_t row_bytes, const std::int64_t* indices,
                   std::ptrdiff_t count, std::size_t max_bytes);

}  // namespace pydl::nn
