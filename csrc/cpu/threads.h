// Thread control and the one parallel loop the core uses.
//
// Determinism rule: a thread never changes the order in which one output value
// is summed. `parallel_for` hands each index to exactly one thread, within a
// contiguous range, so an element-wise kernel is bitwise identical at any thread
// count and whichever thread runs which range. A reduction must split its input
// into blocks whose size does not depend on the thread count, reduce each block
// serially and add the block results in index order (see `fixed_block_count`).
//
// Contention rule: no thread ever waits long for work another thread has not
// done. [0, n) is cut into more chunks than threads; each thread (the caller and
// the pool's workers, cpu/thread_pool.h) owns a contiguous share of them, and the
// others take over the rest of a share whose owner shows no progress for 1 ms (it
// was descheduled, or never got a core). Waiting threads spin briefly and then
// sleep, leaving the core to whoever needs it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <type_traits>

namespace pydl {

// Threads the core uses for its parallel regions (>= 1; 1 in a serial build).
int num_threads();
// Sets it; values < 1 are rejected by the bindings before reaching here.
void set_num_threads(int n);
// Online CPUs of the machine (the most threads worth asking for; 1 in a serial build).
int max_threads();
// False in a serial build (PYDL_THREADS=OFF): everything runs on the caller's thread.
bool threads_enabled();

// Number of blocks of at most `block` items covering n items (thread-count free).
inline std::ptrdiff_t fixed_block_count(std::ptrdiff_t n, std::ptrdiff_t block) {
    return n <= 0 ? 0 : (n + block - 1) / block;
}

// Chunks per thread of a parallel_for: enough that a thread running at half
// speed (a busy process on its core) costs the others little waiting, few enough
// that claiming a chunk (one atomic operation) stays negligible.
inline constexpr int kChunksPerThread = 4;

// How finely a parallel_for cuts its range. A body whose every call costs work
// that does not shrink with its range (a scan of all the indices, say) asks for
// Chunking{1}: one range per thread.
struct Chunking {
    int per_thread = kChunksPerThread;
};

namespace detail {
using RangeFn = void (*)(void* ctx, std::ptrdiff_t begin, std::ptrdiff_t end);
// Calls fn(ctx, begin, end) once for each of `chunks` contiguous chunks
// [n*c/chunks, n*(c+1)/chunks) of [0, n), on at most `threads` threads: the
// caller and up to threads - 1 pool workers (cpu/thread_pool.cpp). Runs
// fn(ctx, 0, n) on the caller when another thread is using the pool.
void run_chunks(std::ptrdiff_t n, std::ptrdiff_t chunks, int threads, RangeFn fn, void* ctx);
// True on a pool worker and on a caller while it runs chunks: a parallel_for
// from there runs serially (no nested parallelism).
bool in_parallel();
}  // namespace detail

// Calls body(begin, end) over contiguous ranges that cover [0, n) exactly once,
// on up to num_threads() threads, with at least `grain` items per thread (the
// grain bounds the thread count; chunks may be smaller). A thread may get
// several ranges (up to chunking.per_thread of its own, and others it takes
// over). Runs body(0, n) on the caller when the work is small, when one thread
// is set, or when already inside a parallel region.
template <class Body>
void parallel_for(std::ptrdiff_t n, std::ptrdiff_t grain, Body&& body, Chunking chunking = {}) {
    if (n <= 0) return;
    grain = std::max<std::ptrdiff_t>(grain, 1);
    const std::ptrdiff_t chunks_by_work = (n + grain - 1) / grain;
    const int threads = static_cast<int>(std::min<std::ptrdiff_t>(num_threads(), chunks_by_work));
    if (threads > 1 && !detail::in_parallel()) {
        using B = std::remove_reference_t<Body>;
        const std::ptrdiff_t chunks = std::min<std::ptrdiff_t>(
            n, static_cast<std::ptrdiff_t>(threads) * std::max(1, chunking.per_thread));
        detail::run_chunks(
            n, chunks, threads,
            [](void* ctx, std::ptrdiff_t b, std::ptrdiff_t e) { (*static_cast<B*>(ctx))(b, e); },
            const_cast<void*>(static_cast<const void*>(&body)));
        return;
    }
    body(std::ptrdiff_t{0}, n);
}

}  // namespace pydl
