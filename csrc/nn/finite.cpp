#include "nn/finite.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>

#include "cpu/threads.h"

namespace pydl::nn {

namespace {

// Values per block: a block is checked as one branch-free pass the compiler
// vectorizes (no early exit inside it), and blocks stop once one failed.
constexpr std::ptrdiff_t kBlock = 8192;

// The IEEE-754 exponent field: all ones exactly for infinities and NaNs.
template <class T>
struct Bits;
template <>
struct Bits<float> {
    using U = std::uint32_t;
    static constexpr U kExponent = 0x7f800000u;
};
template <>
struct Bits<double> {
    using U = std::uint64_t;
    static constexpr U kExponent = 0x7ff0000000000000ull;
};

template <class T>
bool block_finite(const T* x, std::ptrdiff_t begin, std::ptrdiff_t end) {
    using U = typename Bits<T>::U;
    constexpr U kExp = Bits<T>::kExponent;
    U bad = 0;
    for (std::ptrdiff_t i = begin; i < end; ++i) {
        U u;
        std::memcpy(&u, x + i, sizeof(U));
        bad |= static_cast<U>((u & kExp) == kExp);
    }
    return bad == 0;
}

}  // namespace

template <class T>
bool all_finite(const T* x, std::ptrdiff_t n) {
    if (n <= 0) return true;
    const std::ptrdiff_t blocks = fixed_block_count(n, kBlock);
    std::atomic<bool> finite{true};
    parallel_for(blocks, 16, [&](std::ptrdiff_t b0, std::ptrdiff_t b1) {
        for (std::ptrdiff_t b = b0; b < b1 && finite.load(std::memory_order_relaxed); ++b) {
            if (!block_finite(x, b * kBlock, std::min(n, (b + 1) * kBlock)))
                finite.store(false, std::memory_order_relaxed);
        }
    });
    return finite.load();
}

template bool all_finite<float>(const float*, std::ptrdiff_t);
template bool all_finite<double>(const double*, std::ptrdiff_t);

}  // namespace pydl::nn
