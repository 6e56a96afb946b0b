// Deterministic reductions: the same bits at any thread count.
//
// A reduction splits [0, n) into blocks whose size depends only on n (never on
// the thread count), reduces each block serially on one thread, accumulating in
// double, and adds the block results in index order on the calling thread
// (cpu/threads.h, the determinism rule). Threads only decide who computes which
// block, never the order of any addition.
#pragma once

#include <algorithm>
#include <cstddef>

#include "cpu/threads.h"

namespace pydl::nn {

// At most this many blocks per reduction, so that the block partials live on the
// stack (no allocation); larger inputs get larger blocks.
inline constexpr std::ptrdiff_t kMaxReduceBlocks = 256;

// Returns sum over blocks b (in order) of block_sum(begin_b, end_b), where the
// blocks cover [0, n) with `block` items each (the last one shorter), enlarged
// when more than kMaxReduceBlocks would be needed. Blocks run in parallel when
// there are at least 2 * `grain_blocks` of them. block_sum(begin, end) must be a
// serial, deterministic function of its range.
template <class BlockSum>
double blocked_sum(std::ptrdiff_t n, std::ptrdiff_t block, std::ptrdiff_t grain_blocks,
                   BlockSum&& block_sum) {
    if (n <= 0) return 0.0;
    block = std::max<std::ptrdiff_t>(block, 1);
    std::ptrdiff_t blocks = fixed_block_count(n, block);
    if (blocks > kMaxReduceBlocks) {
        block = (n + kMaxReduceBlocks - 1) / kMaxReduceBlocks;
        blocks = fixed_block_count(n, block);
    }
    double partial[kMaxReduceBlocks];
    parallel_for(blocks, grain_blocks, [&](std::ptrdiff_t b0, std::ptrdiff_t b1) {
        for (std::ptrdiff_t b = b0; b < b1; ++b) {
            partial[b] = block_sum(b * block, std::min(n, (b + 1) * block));
        }
    });
    double total = partial[0];
    for (std::ptrdiff_t b = 1; b < blocks; ++b) total += partial[b];
    return total;
}

// sum(x[i]^2) accumulated in double, deterministic (for clipnorm and global_norm).
template <class T>
double sum_of_squares(const T* x, std::ptrdiff_t n);

}  // namespace pydl::nn
