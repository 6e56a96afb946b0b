// The macro-tile grid of the GEMM driver (gemm/tiles.h).
//
// Cost model, in multiply-adds on the critical path of a quiet machine:
//
//   compute   roundup(M, MR) x roundup(N, NR) x K: the same for every grid
//   pack B    every row band of tiles packs all the B its columns need: gm x K x N
//   pack A    every tile packs its rows once per NC of its columns
//   tiles     a fixed cost for taking one and setting up its loops
//   time      (sum of the above) x ceil(tiles / t) / tiles: equal tiles shared
//             by t threads
//
// The grid with the lowest time wins, except that a grid with more tiles (up to
// kChunksPerThread per thread) is preferred when it costs at most kSlack (1%)
// more: the tiles a slowed thread has not reached yet are what the others can
// take over (cpu/thread_pool.h), so a long product on a busy machine gains far
// more from them than a quiet one loses.
#include "gemm/tiles.h"

#include <algorithm>

#include "cpu/threads.h"

namespace pydl::gemm {

using std::ptrdiff_t;

namespace {

// Below ~0.5 MFLOP per thread a parallel region costs more than it saves.
constexpr double kFlopsPerThread = 5e5;
// Multiply-adds that packing one element costs (A is gathered across MR rows; B is
// a contiguous copy but often streamed from memory), and that one tile costs.
constexpr double kPackA = 4.0;
constexpr double kPackB = 8.0;
constexpr double kPerTile = 5000.0;
constexpr double kSlack = 0.01;
// The search stops at this many tiles (2 x kChunksPerThread per thread at most).
constexpr ptrdiff_t kMaxTiles = 4096;

ptrdiff_t ceil_div(ptrdiff_t x, ptrdiff_t y) { return (x + y - 1) / y; }

// A packs over the gn column tiles: the partition nt * j / gn gives r = nt % gn
// tiles of q + 1 register columns and gn - r of q (q = nt / gn).
double a_packs(const TileShape& s, ptrdiff_t nt, ptrdiff_t gn) {
    const ptrdiff_t q = nt / gn, r = nt % gn;
    const ptrdiff_t narrow = q > 0 ? ceil_div(q * s.nr, s.nc) : 0;
    const ptrdiff_t wide = ceil_div((q + 1) * s.nr, s.nc);
    return static_cast<double>((gn - r) * narrow + r * wide);
}

double grid_time(const TileShape& s, ptrdiff_t mt, ptrdiff_t nt, ptrdiff_t gm, ptrdiff_t gn,
                 int t) {
    const double m = static_cast<double>(s.m), n = static_cast<double>(s.n),
                 k = static_cast<double>(s.k);
    const double compute = static_cast<double>(mt * s.mr) * static_cast<double>(nt * s.nr) * k;
    const double pack_b = s.direct_b ? 0.0 : static_cast<double>(gm) * k * n;
    const double pack_a = s.direct_a ? 0.0 : a_packs(s, nt, gn) * m * k;
    const ptrdiff_t tiles = gm * gn;
    const double total = compute + kPackA * pack_a + kPackB * pack_b + kPerTile * tiles;
    return total * static_cast<double>(ceil_div(tiles, t)) / static_cast<double>(tiles);
}

}  // namespace

TileGrid choose_tiles(const TileShape& s, int threads) {
    const ptrdiff_t mt = ceil_div(s.m, s.mr), nt = ceil_div(s.n, s.nr);
    const double flops = 2.0 * static_cast<double>(s.m) * static_cast<double>(s.n) *
                         static_cast<double>(s.k);
    const auto by_work = static_cast<ptrdiff_t>(flops / kFlopsPerThread);
    TileGrid grid;
    const ptrdiff_t t = std::max<ptrdiff_t>(1, std::min<ptrdiff_t>({threads, by_work, mt * nt}));
    if (t == 1) return grid;
    grid.threads = static_cast<int>(t);
    const ptrdiff_t max_tiles = std::min<ptrdiff_t>({mt * nt, 2 * kChunksPerThread * t, kMaxTiles});
    const ptrdiff_t target = std::min<ptrdiff_t>(max_tiles, kChunksPerThread * t);
    // First the fastest grid, then the one with the most tiles (up to target) within kSlack.
    double best = -1.0;
    for (int pass = 0; pass < 2; ++pass) {
        ptrdiff_t chosen_tiles = 0;
        double chosen_time = 0.0;
        for (ptrdiff_t gm = 1; gm <= std::min(mt, max_tiles); ++gm) {
            for (ptrdiff_t gn = std::max<ptrdiff_t>(1, ceil_div(t, gm));
                 gn <= std::min(nt, max_tiles / gm); ++gn) {
                const double time = grid_time(s, mt, nt, gm, gn, static_cast<int>(t));
                if (pass == 0) {
                    if (best < 0 || time < best) best = time;
                    continue;
                }
                if (time > best * (1.0 + kSlack)) continue;
                const ptrdiff_t tiles = std::min(gm * gn, target);
                if (tiles > chosen_tiles || (tiles == chosen_tiles && time < chosen_time)) {
                    chosen_tiles = tiles;
                    chosen_time = time;
                    grid.gm = gm;
                    grid.gn = gn;
                }
            }
        }
    }
    return grid;
}

TileBounds tile_bounds(const TileShape& s, const TileGrid& g, ptrdiff_t t) {
    const ptrdiff_t mt = ceil_div(s.m, s.mr), nt = ceil_div(s.n, s.nr);
    const ptrdiff_t i = t / g.gn, j = t % g.gn;
    return {std::min(s.m, mt * i / g.gm * s.mr), std::min(s.m, mt * (i + 1) / g.gm * s.mr),
            std::min(s.n, nt * j / g.gn * s.nr), std::min(s.n, nt * (j + 1) / g.gn * s.nr)};
}

}  // namespace pydl::gemm
