#include "nn/gather.h"

#include <algorithm>
#include <cstring>

#include "cpu/threads.h"

namespace pydl::nn {

namespace {
// Bytes per thread below which a parallel region costs more than the copy.
constexpr std::size_t kParallelBytes = 256 * 1024;

// Rows of one word (a label, a sample weight): a fixed-size copy the compiler
// turns into one move (alignment-free), where a memcpy call per row would cost
// more than the copy itself.
template <std::size_t kBytes>
void gather_words(const unsigned char* from, const std::int64_t* indices, std::ptrdiff_t begin,
                  std::ptrdiff_t end, unsigned char* to) {
    for (std::ptrdiff_t i = begin; i < end; ++i) {
        std::memcpy(to + static_cast<std::size_t>(i) * kBytes,
                    from + static_cast<std::size_t>(indices[i]) * kBytes, kBytes);
    }
}
}  // namespace

std::ptrdiff_t find_bad_index(const std::int64_t* indices, std::ptrdiff_t count,
                              std::int64_t rows) {
    for (std::ptrdiff_t i = 0; i < count; ++i) {
        if (indices[i] < 0 || indices[i] >= rows) return i;
    }
    return -1;
}

void gather_rows(const void* src, std::size_t row_bytes, const std::int64_t* indices,
                 std::ptrdiff_t count, void* out) {
    if (count <= 0 || row_bytes == 0) return;
    const auto* from = static_cast<const unsigned char*>(src);
    auto* to = static_cast<unsigned char*>(out);
    const std::ptrdiff_t grain =
        static_cast<std::ptrdiff_t>(std::max<std::size_t>(1, kParallelBytes / row_bytes));
    parallel_for(count, grain, [&](std::ptrdiff_t begin, std::ptrdiff_t end) {
        if (row_bytes == 4) return gather_words<4>(from, indices, begin, end, to);
        if (row_bytes == 8) return gather_words<8>(from, indices, begin, end, to);
        for (std::ptrdiff_t i = begin; i < end; ++i) {
            std::memcpy(to + static_cast<std::size_t>(i) * row_bytes,
                        from + static_cast<std::size_t>(indices[i]) * row_bytes, row_bytes);
        }
    });
}

void prefetch_rows(const void* src, std::size_t row_bytes, const std::int64_t* indices,
                   std::ptrdiff_t count, std::size_t max_bytes) {
    const auto* from = static_cast<const unsigned char*>(src);
    const std::size_t bytes = std::min(row_bytes, max_bytes);
    for (std::ptrdiff_t i = 0; i < count; ++i) {
        const unsigned char* row = from + static_cast<std::size_t>(indices[i]) * row_bytes;
        for (std::size_t off = 0; off < bytes; off += 64) __builtin_prefetch(row + off);
    }
}

}  // namespace pydl::nn
