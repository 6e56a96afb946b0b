// Integer tokens that arrive as float values (a model input of indices: Input has
// no integer dtype), and the dense encodings of CategoryEncoding, on raw arrays:
// what the fused plan's Embedding and CategoryEncoding nodes call.
//
//   tokens_from_values:  t[i] = int64(v[i])      (truncation toward zero, as NumPy's
//                                                 astype(int64), which the tape uses)
//   token_mask:          m[i] = int64(v[i]) != 0
//   category_encode:     out (rows, width) from tokens (rows, per_row), every token in
//                        [0, num_tokens) (callers check first):
//     multi_hot  width = num_tokens:            out[r, t] = 1 for each token t of row r
//     count      width = num_tokens:            out[r, t] = occurrences of t in row r
//     one_hot    width = per_row * num_tokens:  out[r, j * num_tokens + t_j] = 1
//
// Counts are exact integers in float (below 2^24 per row): the tape's bincount
// cast to float gives the same values. Parallel over rows: bitwise identical at
// any thread count.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pydl::nn {

enum class CategoryMode : int { multi_hot, count, one_hot };

// Whether every value truncates to a token in [0, num_tokens), i.e. lies in
// (-1, num_tokens) (NaN does not). Returns the position of the first that does
// not, or -1.
std::ptrdiff_t find_bad_token_value(const float* v, std::ptrdiff_t n, std::int64_t num_tokens);

void tokens_from_values(const float* v, std::ptrdiff_t n, std::int64_t* tokens);

// mask[i] = int64(v[i]) != 0 (computed as v not in (-1, 1): defined for any float):
// Embedding(mask_zero=True)'s mask of padding steps.
void token_mask(const float* v, std::ptrdiff_t n, std::uint8_t* mask);

template <class T>
void category_encode(const std::int64_t* tokens, std::ptrdiff_t rows, std::ptrdiff_t per_row,
                     std::int64_t num_tokens, CategoryMode mode, T* out);

}  // namespace pydl::nn
