// Thread control and the one parallel loop the core uses.
//
// Determinism rule: a thread never changes the order in which one output value
// is summed. `parallel_for` hands each index range to exactly one thread, so an
// element-wise kernel is bitwise identical at any thread count. A reduction must
// split its input into blocks whose size does not depend on the thread count,
// reduce each block serially and add the block results in index order (see
// `fixed_block_count`).
#pragma once

#include <algorithm>
#include <cstddef>

#if defined(PYDL_OPENMP)
#include <omp.h>
#endif

namespace pydl {

// Threads the core uses for its parallel regions (>= 1).
int num_threads();
// Sets it; values < 1 are rejected by the bindings before reaching here.
void set_num_threads(int n);
// Hardware threads available (omp_get_num_procs, or 1 in a serial build).
int max_threads();
bool openmp_enabled();

// Number of blocks of at most `block` items covering n items (thread-count free).
inline std::ptrdiff_t fixed_block_count(std::ptrdiff_t n, std::ptrdiff_t block) {
    return n <= 0 ? 0 : (n + block - 1) / block;
}

// Calls body(begin, end) over [0, n) split into contiguous chunks of at least
// `grain` items, one chunk per thread, statically. Runs serially when the work is
// small, when only one thread is set, or when already inside a parallel region.
template <class Body>
void parallel_for(std::ptrdiff_t n, std::ptrdiff_t grain, Body&& body) {
    if (n <= 0) return;
    grain = std::max<std::ptrdiff_t>(grain, 1);
    const std::ptrdiff_t chunks_by_work = (n + grain - 1) / grain;
    int threads = static_cast<int>(std::min<std::ptrdiff_t>(num_threads(), chunks_by_work));
#if defined(PYDL_OPENMP)
    if (threads > 1 && !omp_in_parallel()) {
#pragma omp parallel num_threads(threads)
        {
            const int t = omp_get_thread_num();
            const int nt = omp_get_num_threads();
            const std::ptrdiff_t begin = n * t / nt;
            const std::ptrdiff_t end = n * (t + 1) / nt;
            if (begin < end) body(begin, end);
        }
        return;
    }
#endif
    (void)threads;
    body(std::ptrdiff_t{0}, n);
}

}  // namespace pydl
