#include "nn/embedding.h"

#include <algorithm>
#include <cstring>

#include "cpu/threads.h"
#include "nn/gather.h"

namespace pydl::nn {

namespace {
// Values per thread below which a parallel region costs more than the work.
constexpr std::ptrdiff_t kParallelValues = 65536;
}  // namespace

template <class T>
void embedding_forward(const T* table, std::ptrdiff_t input_dim, std::ptrdiff_t dim,
                       const std::int64_t* indices, std::ptrdiff_t count, T* out) {
    (void)input_dim;  // the indices were checked against it by the caller
    gather_rows(table, static_cast<std::size_t>(dim) * sizeof(T), indices, count, out);
}

template <class T>
void embedding_backward(const T* dy, const std::int64_t* indices, std::ptrdiff_t count,
                        std::ptrdiff_t input_dim, std::ptrdiff_t dim, T* dtable) {
    if (input_dim <= 0 || dim <= 0) return;
    // Work: zeroing the table plus the adds; the grain is in table rows.
    const std::ptrdiff_t work = input_dim * dim + count * dim;
    const std::ptrdiff_t chunks = std::max<std::ptrdiff_t>(1, work / kParallelValues);
    const std::ptrdiff_t grain = std::max<std::ptrdiff_t>(1, input_dim / chunks);
    // Every range scans all the indices: one range per thread (cpu/threads.h Chunking).
    parallel_for(input_dim, grain, [&](std::ptrdiff_t r0, std::ptrdiff_t r1) {
        std::memset(dtable + r0 * dim, 0, static_cast<std::size_t>((r1 - r0) * dim) * sizeof(T));
        for (std::ptrdiff_t i = 0; i < count; ++i) {
            const std::int64_t r = indices[i];
            if (r < r0 || r >= r1) continue;
            T* __restrict to = dtable + r * dim;
            const T* __restrict from = dy + i * dim;
            for (std::ptrdiff_t j = 0; j < dim; ++j) to[j] += from[j];
        }
    }, Chunking{1});
}

template void embedding_forward<float>(const float*, std::ptrdiff_t, std::ptrdiff_t,
                                       const std::int64_t*, std::ptrdiff_t, float*);
template void embedding_forward<double>(const double*, std::ptrdiff_t, std::ptrdiff_t,
                                        const std::int64_t*, std::ptrdiff_t, double*);
template void embedding_backward<float>(const float*, const std::int64_t*, std::ptrdiff_t,
                                        std::ptrdiff_t, std::ptrdiff_t, float*);
template void embedding_backward<double>(const double*, const std::int64_t*, std::ptrdiff_t,
                                         std::ptrdiff_t, std::ptrdiff_t, double*);

}  // namespace pydl::nn
