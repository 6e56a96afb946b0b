// The GEMM driver: cache blocking, threads, packing and edge tiles around the
// installed microkernel (gemm/ukernel.h), BLIS style:
//
//   split C into macro-tiles (M and N only, never K; gemm/tiles.h), taken by the
//   threads one at a time
//   per tile:  for jc (nc columns) / for pc (kc of K): pack B  [or read B in place]
//                    for ic (mc rows): pack A
//                        for jr (NR) / for ir (MR): microkernel, then the epilogue
//
// The epilogue is fused: the bias is the accumulator's first value (first K
// block) and the element-wise activation runs on each tile right after its last
// K block, while it is still in L1. Softmax needs whole rows, so it runs over
// full rows once the product is done.
//
// One driver for every kernel family: an operand family (AsIs: the operands in
// their own type, read in place or packed; Bf16: rounded to bfloat16 pairs as
// they are packed, gemm/bf16.h) says how the A and B panels of a block are made
// and what the microkernel's k counts; the loops, tiles, threads and epilogue
// are the same.
#include "gemm/gemm.h"

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "cpu/threads.h"
#include "gemm/bf16.h"
#include "gemm/pack.h"
#include "gemm/skinny.h"
#include "gemm/tiles.h"
#include "gemm/ukernel.h"
#include "gemm/workspace.h"

namespace pydl::gemm {

PackBuffers& thread_pack_buffers() {
    thread_local PackBuffers buffers;
    return buffers;
}

namespace {

using std::ptrdiff_t;

template <class T>
struct Problem {
    bool trans_a, trans_b;
    ptrdiff_t m, n, k;
    const T* a;
    ptrdiff_t lda;
    const T* b;
    ptrdiff_t ldb;
    T* c;
    ptrdiff_t ldc;
    Epilogue<T> ep;
    bool direct_a;  // read full A panels in place (no packing)
    bool direct_b;  // read full B panels in place (no packing)
};

template <class T>
const UkernelSets<T>& kernels_for();
template <>
const UkernelSets<float>& kernels_for<float>() { return ukernels().f32; }
template <>
const UkernelSets<double>& kernels_for<double>() { return ukernels().f64; }

ptrdiff_t round_up(ptrdiff_t x, ptrdiff_t to) { return (x + to - 1) / to * to; }
ptrdiff_t ceil_div(ptrdiff_t x, ptrdiff_t y) { return (x + y - 1) / y; }

// Splits `extent` into ceil(extent / max_block) blocks of equal size rounded up
// to a multiple of `unit`: the block size used for it (<= max_block when
// max_block is a multiple of unit).
ptrdiff_t balanced_block(ptrdiff_t extent, ptrdiff_t max_block, ptrdiff_t unit) {
    const ptrdiff_t blocks = ceil_div(extent, max_block);
    return round_up(ceil_div(extent, blocks), unit);
}

// The micro-panels of B for one (pc, jc) block: `full` panels of the main
// kernel's NR columns at base + s*step with row stride ld (packed, or B read in
// place), then at most one packed tail panel of fewer columns, for `tail_uk`
// (the narrow kernel when the tail fits it).
template <class T, class P>
struct BPanels {
    const P* base;
    ptrdiff_t step, ld, full;
    const P* tail;
    const Ukernel<T, P>* tail_uk;
};

// The micro-panels of A for one (ic, pc) block: panel r < full read in place at
// base + r*step with strides (rs, cs); the others packed at tail + ...
template <class P>
struct APanels {
    const P* base;
    ptrdiff_t step, rs, cs, full;
    const P* tail;
    ptrdiff_t tail_step;
};

// The operands as they are: A and B read in place where the route says so
// (Problem::direct_a / direct_b), else packed (gemm/pack.h). A family gives the
// A panels of a block and packs B; b_panels() below lays out B's for either.
template <class T>
struct AsIs {
    using P = T;
    static constexpr ptrdiff_t kUnit = 1;  // K blocks are cut at multiples of this
    const UkernelSet<T>* ks;

    static ptrdiff_t steps(ptrdiff_t kb) { return kb; }  // the microkernel's k for kb values

    void pack_b(const Problem<T>& pr, ptrdiff_t p0, ptrdiff_t j0, ptrdiff_t kb, ptrdiff_t nb,
                int nr, P* dst) const {
        gemm::pack_b(pr.trans_b, pr.b, pr.ldb, p0, j0, kb, nb, nr, dst);
    }

    APanels<P> a_panels(const Problem<T>& pr, P* buf, ptrdiff_t ic, ptrdiff_t pc, ptrdiff_t mb,
                        ptrdiff_t kb) const {
        const int mr = ks->main.mr;
        APanels<P> ap{};
        if (pr.direct_a) {
            // op(A)[i][p] = a[i*rs + p*cs]
            const ptrdiff_t rs = pr.trans_a ? 1 : pr.lda, cs = pr.trans_a ? pr.lda : 1;
            ap.full = mb / mr;
            ap.base = pr.a + ic * rs + pc * cs;
            ap.step = mr * rs;
            ap.rs = rs;
            ap.cs = cs;
            if (ap.full * mr < mb)
                pack_a(pr.trans_a, pr.a, pr.lda, ic + ap.full * mr, pc, mb - ap.full * mr, kb, mr,
                       buf);
        } else {
            pack_a(pr.trans_a, pr.a, pr.lda, ic, pc, mb, kb, mr, buf);
        }
        ap.tail = buf;
        ap.tail_step = mr * kb;
        return ap;
    }
};

// float32 operands rounded to bfloat16 pairs in the packing (gemm/bf16.h): both
// always packed.
struct Bf16 {
    using P = std::uint32_t;
    static constexpr ptrdiff_t kUnit = 2;
    const Bf16Kernels* kernels;
    const UkernelSet<float, P>* ks;

    static ptrdiff_t steps(ptrdiff_t kb) { return (kb + 1) / 2; }

    void pack_b(const Problem<float>& pr, ptrdiff_t p0, ptrdiff_t j0, ptrdiff_t kb, ptrdiff_t nb,
                int nr, P* dst) const {
        kernels->pack_b(pr.trans_b, pr.b, pr.ldb, p0, j0, kb, nb, nr, dst);
    }

    APanels<P> a_panels(const Problem<float>& pr, P* buf, ptrdiff_t ic, ptrdiff_t pc, ptrdiff_t mb,
                        ptrdiff_t kb) const {
        const int mr = ks->main.mr;
        kernels->pack_a(pr.trans_a, pr.a, pr.lda, ic, pc, mb, kb, mr, buf);
        APanels<P> ap{};  // every panel packed: dst[q*mr + i], the packed entry
        ap.tail = buf;
        ap.tail_step = mr * steps(kb);
        return ap;
    }
};

// The B panels of one (pc, jc) block with the family's packing: the full panels
// of the main kernel (B read in place where the route says so: AsIs only), then
// the tail panel.
template <class T, class F>
BPanels<T, typename F::P> b_panels(const F& fam, const Problem<T>& pr, typename F::P* buf,
                                   ptrdiff_t pc, ptrdiff_t jc, ptrdiff_t kb, ptrdiff_t nb) {
    const UkernelSet<T, typename F::P>& ks = *fam.ks;
    const int nr = ks.main.nr;
    const ptrdiff_t full = nb / nr, tail_cols = nb - full * nr, steps = F::steps(kb);
    BPanels<T, typename F::P> bp{};
    bp.full = full;
    bp.base = buf;
    bp.step = nr * steps;
    bp.ld = nr;
    bool in_place = false;
    if constexpr (std::is_same_v<T, typename F::P>) {  // B read as it is (AsIs only)
        in_place = pr.direct_b;
        if (in_place) {
            bp.base = pr.b + pc * pr.ldb + jc;
            bp.step = nr;
            bp.ld = pr.ldb;
        }
    }
    if (!in_place) fam.pack_b(pr, pc, jc, kb, full * nr, nr, buf);
    if (tail_cols) {
        bp.tail_uk = tail_cols <= ks.narrow.nr ? &ks.narrow : &ks.main;
        typename F::P* tail = buf + full * nr * steps;
        fam.pack_b(pr, pc, jc + full * nr, kb, tail_cols, bp.tail_uk->nr, tail);
        bp.tail = tail;
    }
    return bp;
}

// kb: the microkernel's k (values, or pairs for bf16).
template <class T, class P>
void macro_kernel(const Ukernel<T, P>& main_uk, const Problem<T>& pr, const APanels<P>& ap,
                  const BPanels<T, P>& bp, ptrdiff_t ic, ptrdiff_t mb, ptrdiff_t jc, ptrdiff_t nb,
                  ptrdiff_t kb, bool first, bool last) {
    const int mr = main_uk.mr;
    const bool load_c = pr.ep.accumulate || !first;
    const bool activate = last && pr.ep.activation != nn::Activation::linear &&
                          nn::is_elementwise(pr.ep.activation);
    for (ptrdiff_t jr = 0, s = 0; jr < nb; ++s) {
        const bool tail = s >= bp.full;
        const Ukernel<T, P>& uk = tail ? *bp.tail_uk : main_uk;
        const int nr = uk.nr;
        const ptrdiff_t cols = std::min<ptrdiff_t>(nr, nb - jr);
        const P* b = tail ? bp.tail : bp.base + s * bp.step;
        const ptrdiff_t ldb = tail ? nr : bp.ld;
        const T* bias = (!load_c && pr.ep.bias) ? pr.ep.bias + jc + jr : nullptr;
        for (ptrdiff_t ir = 0, r = 0; ir < mb; ir += mr, ++r) {
            const ptrdiff_t rows = std::min<ptrdiff_t>(mr, mb - ir);
            const bool in_place = r < ap.full;
            const P* a = in_place ? ap.base + r * ap.step : ap.tail + (r - ap.full) * ap.tail_step;
            const ptrdiff_t rs_a = in_place ? ap.rs : 1, cs_a = in_place ? ap.cs : mr;
            const UkernelFn<T, P> fn = in_place ? uk.strided : uk.packed;
            T* c = pr.c + (ic + ir) * pr.ldc + jc + jr;
            fn(kb, a, rs_a, cs_a, b, ldb, c, pr.ldc, bias, load_c, static_cast<int>(rows),
               static_cast<int>(cols));
            if (activate)
                nn::activation_forward_rows(pr.ep.activation, pr.ep.alpha, c, pr.ldc, c, pr.ldc,
                                            rows, cols);
        }
        jr += cols;
    }
}

// The serial blocked GEMM of C[m0:m1, n0:n1], with the operand family F.
template <class T, class F>
void gemm_region(const F& fam, const Problem<T>& pr, ptrdiff_t m0, ptrdiff_t m1, ptrdiff_t n0,
                 ptrdiff_t n1) {
    using P = typename F::P;
    const auto& uk = fam.ks->main;
    PackBuffers& buf = thread_pack_buffers();
    const int mr = uk.mr, nr = uk.nr;
    // Blocks of (nearly) equal size: no thin last block of K, M or N.
    const ptrdiff_t kc = balanced_block(pr.k, uk.kc, F::kUnit);
    const ptrdiff_t mc = balanced_block(m1 - m0, uk.mc, mr);
    const ptrdiff_t nc = balanced_block(n1 - n0, uk.nc, nr);
    P* a_packed = static_cast<P*>(buf.a.get(sizeof(P) * mc * F::steps(kc)));
    P* b_packed = static_cast<P*>(buf.b.get(sizeof(P) * nc * F::steps(kc)));
    for (ptrdiff_t jc = n0; jc < n1; jc += nc) {
        const ptrdiff_t nb = std::min(nc, n1 - jc);
        for (ptrdiff_t pc = 0; pc < pr.k; pc += kc) {
            const ptrdiff_t kb = std::min(kc, pr.k - pc);
            const BPanels<T, P> bp = b_panels(fam, pr, b_packed, pc, jc, kb, nb);
            for (ptrdiff_t ic = m0; ic < m1; ic += mc) {
                const ptrdiff_t mb = std::min(mc, m1 - ic);
                const APanels<P> ap = fam.a_panels(pr, a_packed, ic, pc, mb, kb);
                macro_kernel(uk, pr, ap, bp, ic, mb, jc, nb, F::steps(kb), pc == 0,
                             pc + kb == pr.k);
            }
        }
    }
}

// Which path and kernels a product takes, and how its operands are read.
template <class T>
struct Route {
    bool skinny = false;               // gemm/skinny.h
    const UkernelSet<T>* ks = nullptr;  // the blocked path's kernels
    bool direct_a = false, direct_b = false;

    TileShape shape(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k) const {
        return {m, n, k, ks->main.mr, ks->main.nr, ks->main.nc, direct_a, direct_b};
    }
};

template <class T>
Route<T> route(bool trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k) {
    Route<T> r;
    const UkernelSets<T>& sets = kernels_for<T>();
    const Ukernel<T>& uk = sets.tall.main;
    if (!trans_b && m <= kSkinnyMaxRows && m < uk.mr) {
        r.skinny = true;
        return r;
    }
    // Reading B in place saves packing it when there is little reuse to pay
    // for the packing (few rows of A) or when it is small enough to stay cached.
    const ptrdiff_t size = sizeof(T);
    r.direct_b = !trans_b && (m <= 4 * uk.mr || k * n * size <= (32 << 10));
    r.direct_a = n <= 2 * uk.nr || m * k * size <= (32 << 10);
    // A read in place has its last row panel packed when MR does not divide M;
    // the short-rows kernels avoid that where their MR does (ukernel.h).
    const ptrdiff_t short_mr = sets.short_rows.main.mr;
    const bool short_rows = r.direct_a && m % uk.mr != 0 && m % short_mr == 0;
    r.ks = short_rows ? &sets.short_rows : &sets.tall;
    return r;
}

// C in a grid of macro-tiles (gemm/tiles.h) that the threads take one at a time.
template <class T, class F>
void gemm_impl(const F& fam, const Problem<T>& pr, const TileShape& shape) {
    const TileGrid grid = choose_tiles(shape, num_threads());
    const ptrdiff_t tiles = grid.count();
    // The grain holds parallel_for to the grid's thread count; it still makes one
    // chunk per tile (cpu/threads.h: kChunksPerThread per thread at most).
    parallel_for(tiles, ceil_div(tiles, grid.threads), [&](ptrdiff_t begin, ptrdiff_t end) {
        for (ptrdiff_t t = begin; t < end; ++t) {
            const TileBounds b = tile_bounds(shape, grid, t);
            if (b.m0 < b.m1 && b.n0 < b.n1) gemm_region(fam, pr, b.m0, b.m1, b.n0, b.n1);
        }
    });
}

// C = bias broadcast (or zero) then the activation: the product with k == 0.
template <class T>
void empty_product(const Problem<T>& pr) {
    if (pr.ep.accumulate) return;
    for (ptrdiff_t i = 0; i < pr.m; ++i)
        for (ptrdiff_t j = 0; j < pr.n; ++j) pr.c[i * pr.ldc + j] = pr.ep.bias ? pr.ep.bias[j] : T(0);
    if (pr.ep.activation != nn::Activation::linear && nn::is_elementwise(pr.ep.activation))
        nn::activation_forward_rows(pr.ep.activation, pr.ep.alpha, pr.c, pr.ldc, pr.c, pr.ldc, pr.m,
                                    pr.n);
}

// A few rows of A (gemm/skinny.h): threads split the columns of C in whole
// register blocks; the element-wise activation runs on each thread's columns.
template <class T>
void skinny_product(const Problem<T>& pr) {
    const SkinnyKernel<T>& kern = skinny_kernel<T>();
    const SkinnyArgs<T> args{pr.m, pr.k, pr.a, pr.trans_a ? 1 : pr.lda, pr.trans_a ? pr.lda : 1,
                             pr.b, pr.ldb, pr.c, pr.ldc, pr.ep.bias, pr.ep.accumulate};
    const bool activate = pr.ep.activation != nn::Activation::linear &&
                          nn::is_elementwise(pr.ep.activation);
    const ptrdiff_t blocks = ceil_div(pr.n, kern.width);
    // ~64K multiply-adds per thread at least: below that, fork/join costs more.
    const ptrdiff_t grain = std::max<ptrdiff_t>(1, 65536 / (pr.m * pr.k * kern.width));
    parallel_for(blocks, grain, [&](ptrdiff_t b0, ptrdiff_t b1) {
        const ptrdiff_t j0 = b0 * kern.width, j1 = std::min(pr.n, b1 * kern.width);
        kern.fn(args, j0, j1);
        if (activate)
            nn::activation_forward_rows(pr.ep.activation, pr.ep.alpha, pr.c + j0, pr.ldc,
                                        pr.c + j0, pr.ldc, pr.m, j1 - j0);
    });
}

// Whether a product with these operands runs the bf16 kernels: float32 only,
// and only where they are installed (else the float kernels: gemm/bf16.h).
template <class T>
const Bf16Kernels* bf16_route(Operands operands) {
    if constexpr (std::is_same_v<T, float>) {
        const Bf16Kernels& k = ukernels().bf16;
        if (operands == Operands::bf16 && k.available()) return &k;
    }
    return nullptr;
}

TileShape bf16_shape(const Bf16Kernels& k, ptrdiff_t m, ptrdiff_t n, ptrdiff_t kk) {
    const Ukernel<float, std::uint32_t>& uk = k.set.main;
    return {m, n, kk, uk.mr, uk.nr, uk.nc, false, false};
}

}  // namespace

bool bf16_kernels_installed() { return ukernels().bf16.available(); }

template <class T>
void gemm(bool trans_a, bool trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const T* a,
          ptrdiff_t lda, const T* b, ptrdiff_t ldb, T* c, ptrdiff_t ldc, const Epilogue<T>& ep,
          Operands operands) {
    if (m <= 0 || n <= 0) return;
    Problem<T> pr{trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, ep, false, false};
    if (ep.accumulate) {
        pr.ep.bias = nullptr;
        pr.ep.activation = nn::Activation::linear;
    }
    if (k <= 0) {
        empty_product(pr);
    } else if (const Bf16Kernels* bk = bf16_route<T>(operands)) {
        if constexpr (std::is_same_v<T, float>)
            gemm_impl(Bf16{bk, &bk->set}, pr, bf16_shape(*bk, m, n, k));
    } else if (const Route<T> r = route<T>(trans_b, m, n, k); r.skinny) {
        skinny_product(pr);
    } else {
        pr.direct_a = r.direct_a;
        pr.direct_b = r.direct_b;
        gemm_impl(AsIs<T>{r.ks}, pr, r.shape(m, n, k));
    }
    if (pr.ep.activation == nn::Activation::softmax) {
        parallel_for(m, std::max<ptrdiff_t>(1, 4096 / n), [&](ptrdiff_t r0, ptrdiff_t r1) {
            nn::activation_forward_rows(nn::Activation::softmax, pr.ep.alpha, c + r0 * ldc, ldc,
                                        c + r0 * ldc, ldc, r1 - r0, n);
        });
    }
}

template <class T>
const char* gemm_kernel_name(Operands operands) {
    if (const Bf16Kernels* bk = bf16_route<T>(operands)) return bk->set.main.name;
    return kernels_for<T>().tall.main.name;
}

template <class T>
TileGrid gemm_tile_grid(bool trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, int threads,
                        Operands operands) {
    if (m <= 0 || n <= 0 || k <= 0) return {};
    if (const Bf16Kernels* bk = bf16_route<T>(operands))
        return choose_tiles(bf16_shape(*bk, m, n, k), threads);
    const Route<T> r = route<T>(trans_b, m, n, k);
    return r.skinny ? TileGrid{} : choose_tiles(r.shape(m, n, k), threads);
}

template void gemm<float>(bool, bool, ptrdiff_t, ptrdiff_t, ptrdiff_t, const float*, ptrdiff_t,
                          const float*, ptrdiff_t, float*, ptrdiff_t, const Epilogue<float>&,
                          Operands);
template void gemm<double>(bool, bool, ptrdiff_t, ptrdiff_t, ptrdiff_t, const double*, ptrdiff_t,
                           const double*, ptrdiff_t, double*, ptrdiff_t, const Epilogue<double>&,
                           Operands);
template const char* gemm_kernel_name<float>(Operands);
template const char* gemm_kernel_name<double>(Operands);
template TileGrid gemm_tile_grid<float>(bool, ptrdiff_t, ptrdiff_t, ptrdiff_t, int, Operands);
template TileGrid gemm_tile_grid<double>(bool, ptrdiff_t, ptrdiff_t, ptrdiff_t, int, Operands);

}  // namespace pydl::gemm
