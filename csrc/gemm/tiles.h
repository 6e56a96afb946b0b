// How the GEMM driver splits C among threads: a grid of macro-tiles that the
// threads take one at a time from parallel_for's shared counter
// (cpu/threads.h). More tiles than threads, so that a thread slowed or
// descheduled by another process costs the others only its last tile; few enough
// that re-packing the operands for each tile costs next to nothing.
//
// Tile boundaries fall on multiples of MR rows and NR columns, so every tile is
// made of whole register tiles; the grid only decides which thread computes
// which elements, never how (each element is the same chain of multiply-adds in
// K order whatever tile or thread computes it: gemm/ukernel.h).
#pragma once

#include <cstddef>

namespace pydl::gemm {

struct TileShape {
    std::ptrdiff_t m, n, k;
    int mr, nr;                 // the microkernel's register tile
    std::ptrdiff_t nc;          // its column block (A is packed once per nc columns)
    bool direct_a, direct_b;    // operands read in place (no packing)
};

struct TileGrid {
    std::ptrdiff_t gm = 1, gn = 1;  // tiles down M and across N
    int threads = 1;                // threads worth using (<= the ones asked for)

    std::ptrdiff_t count() const { return gm * gn; }
};

// The grid for `threads` threads (see gemm/tiles.cpp for the cost model).
TileGrid choose_tiles(const TileShape& s, int threads);

// Bounds of tile `t` (row-major over the grid): rows [m0, m1) and columns [n0, n1)
// of C, on MR / NR boundaries; empty when the grid has more tiles than register tiles.
struct TileBounds {
    std::ptrdiff_t m0, m1, n0, n1;
};
TileBounds tile_bounds(const TileShape& s, const TileGrid& g, std::ptrdiff_t t);

}  // namespace pydl::gemm
