#include "cpu/threads.h"

#include <algorithm>
#include <atomic>
#include <thread>

namespace pydl {
namespace {
std::atomic<int> g_threads{0};  // 0: not set yet, use max_threads()
}

int max_threads() {
#if defined(PYDL_THREADS)
    return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
#else
    return 1;
#endif
}

bool threads_enabled() {
#if defined(PYDL_THREADS)
    return true;
#else
    return false;
#endif
}

int num_threads() {
    if (!threads_enabled()) return 1;
    const int n = g_threads.load(std::memory_order_relaxed);
    return n > 0 ? n : max_threads();
}

void set_num_threads(int n) { g_threads.store(n < 1 ? 1 : n, std::memory_order_relaxed); }

}  // namespace pydl
