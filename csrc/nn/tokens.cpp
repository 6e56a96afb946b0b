#include "nn/tokens.h"

#include <algorithm>

#include "cpu/threads.h"

namespace pydl::nn {

using std::ptrdiff_t;

ptrdiff_t find_bad_token_value(const float* v, ptrdiff_t n, std::int64_t num_tokens) {
    const double high = static_cast<double>(num_tokens);
    for (ptrdiff_t i = 0; i < n; ++i) {
        const double x = v[i];
        if (!(x > -1.0 && x < high)) return i;  // NaN fails both
    }
    return -1;
}

void tokens_from_values(const float* v, ptrdiff_t n, std::int64_t* tokens) {
    parallel_for(n, 16384, [&](ptrdiff_t b, ptrdiff_t e) {
        for (ptrdiff_t i = b; i < e; ++i) tokens[i] = static_cast<std::int64_t>(v[i]);
    });
}

void token_mask(const float* v, ptrdiff_t n, std::uint8_t* mask) {
    parallel_for(n, 16384, [&](ptrdiff_t b, ptrdiff_t e) {
        // int64(v) != 0 without converting (NaN and values outside int64 included: NumPy's
        // cast gives them INT64_MIN, not 0).
        for (ptrdiff_t i = b; i < e; ++i) mask[i] = !(v[i] > -1.0f && v[i] < 1.0f);
    });
}

template <class T>
void category_encode(const std::int64_t* tokens, ptrdiff_t rows, ptrdiff_t per_row,
                     std::int64_t num_tokens, CategoryMode mode, T* out) {
    const ptrdiff_t width = mode == CategoryMode::one_hot ? per_row * num_tokens : num_tokens;
    const ptrdiff_t grain = std::max<ptrdiff_t>(1, 65536 / std::max<ptrdiff_t>(width, 1));
    parallel_for(rows, grain, [&](ptrdiff_t b, ptrdiff_t e) {
        for (ptrdiff_t r = b; r < e; ++r) {
            T* o = out + r * width;
            const std::int64_t* t = tokens + r * per_row;
            std::fill(o, o + width, T(0));
            switch (mode) {
                case CategoryMode::multi_hot:
                    for (ptrdiff_t j = 0; j < per_row; ++j) o[t[j]] = T(1);
                    break;
                case CategoryMode::count:
                    for (ptrdiff_t j = 0; j < per_row; ++j) o[t[j]] += T(1);
                    break;
                case CategoryMode::one_hot:
                    for (ptrdiff_t j = 0; j < per_row; ++j) o[j * num_tokens + t[j]] = T(1);
                    break;
            }
        }
    });
}

template void category_encode<float>(const std::int64_t*, ptrdiff_t, ptrdiff_t, std::int64_t,
                                     CategoryMode, float*);
template void category_encode<double>(const std::int64_t*, ptrdiff_t, ptrdiff_t, std::int64_t,
                                      CategoryMode, double*);

}  // namespace pydl::nn
