#include "nn/loss.h"

#include <algorithm>
#include <limits>
#include <memory>

#include "nn/loss_rows.h"
#include "nn/loss_rows_hinge.h"
#include "nn/loss_rows_probabilistic.h"
#include "nn/loss_rows_regression.h"
#include "nn/reduce.h"

namespace pydl::nn {

namespace {

struct LossName {
    const char* name;
    LossKind kind;
};
constexpr LossName kLossNames[] = {
    {"mse", LossKind::mse},
    {"mae", LossKind::mae},
    {"huber", LossKind::huber},
    {"binary_crossentropy", LossKind::binary_crossentropy},
    {"categorical_crossentropy", LossKind::categorical_crossentropy},
    {"sparse_categorical_crossentropy", LossKind::sparse_categorical_crossentropy},
    {"kl_divergence", LossKind::kl_divergence},
    {"poisson", LossKind::poisson},
    {"log_cosh", LossKind::log_cosh},
    {"hinge", LossKind::hinge},
    {"squared_hinge", LossKind::squared_hinge},
    {"categorical_hinge", LossKind::categorical_hinge},
    {"cosine_similarity", LossKind::cosine_similarity},
    {"msle", LossKind::msle},
    {"mape", LossKind::mape},
};

// About this many values per block of rows: enough work to amortize a block
// (and one vmath call over it), several blocks per thread on typical batches,
// and block buffers that fit on the stack.
constexpr std::ptrdiff_t kBlockValues = 4096;
// Below about this many values the loss runs on one thread.
constexpr std::ptrdiff_t kParallelValues = 32768;

// w_r of a row: its sample's weight (1 without weights).
template <class T>
struct RowWeights {
    const T* sample_weight;
    std::ptrdiff_t rows_per_sample;
    double operator()(std::ptrdiff_t r) const {
        if (!sample_weight) return 1.0;
        return static_cast<double>(sample_weight[rows_per_sample == 1 ? r : r / rows_per_sample]);
    }
};

// sum_r(w_r * l_r) / rows over fixed blocks of rows, where
// block_loss(r0, r1, weights, inv_rows) returns the block's sum of w_r * l_r.
template <class T, class BlockLoss>
double reduce_rows(const LossProblem<T>& p, BlockLoss&& block_loss) {
    const std::ptrdiff_t rows = p.rows;
    if (rows <= 0) return 0.0;
    // batch divides rows (the bindings check shapes); the clamp keeps a
    // malformed problem from dividing by zero.
    const RowWeights<T> weights{p.sample_weight,
                                std::max<std::ptrdiff_t>(1, p.batch > 0 ? rows / p.batch : rows)};
    const double inv_rows = 1.0 / static_cast<double>(rows);
    const std::ptrdiff_t block_rows = std::max<std::ptrdiff_t>(1, kBlockValues / p.cols);
    const std::ptrdiff_t grain_blocks =
        std::max<std::ptrdiff_t>(1, kParallelValues / (block_rows * p.cols));
    const double total =
        blocked_sum(rows, block_rows, grain_blocks, [&](std::ptrdiff_t r0, std::ptrdiff_t r1) {
            return block_loss(r0, r1, weights, inv_rows);
        });
    return total / static_cast<double>(rows);
}

// A block buffer: on the stack up to kBlockValues values (every block when the
// rows have at most that many), on the heap for longer rows.
template <class T>
class BlockBuffer {
  public:
    explicit BlockBuffer(std::ptrdiff_t n) {
        if (n > kBlockValues) heap_.reset(new T[static_cast<std::size_t>(n)]);
    }
    T* data() { return heap_ ? heap_.get() : stack_; }

  private:
    T stack_[kBlockValues];
    std::unique_ptr<T[]> heap_;
};

// Kinds without exp/log (and sparse on probabilities: one log per row):
// row_loss(r, k) -> l_r.
template <class T, class RowLoss>
double plain_loss(const LossProblem<T>& p, RowLoss&& row_loss) {
    return reduce_rows(p, [&](std::ptrdiff_t r0, std::ptrdiff_t r1, const RowWeights<T>& weights,
                              double inv_rows) {
        double s = 0.0;
        for (std::ptrdiff_t r = r0; r < r1; ++r) {
            const double w = weights(r);
            s += w * row_loss(r, w * inv_rows);
        }
        return s;
    });
}

// Kinds with exp/log (loss_rows::*Crossentropy* structs): fill the block's
// buffers row by row, one vmath pass over the block, then the rows.
// target(r) is the row's targets (a pointer, or a class index).
template <class Kind, class T, class Target>
double buffered_loss(const LossProblem<T>& p, Target&& target) {
    const std::ptrdiff_t n = p.cols;
    return reduce_rows(p, [&](std::ptrdiff_t r0, std::ptrdiff_t r1, const RowWeights<T>& weights,
                              double inv_rows) {
        const std::ptrdiff_t len = (r1 - r0) * n;
        BlockBuffer<T> buffer0(len);
        BlockBuffer<T> buffer1(Kind::kBuffers > 1 ? len : 0);
        T* b0 = buffer0.data();
        T* b1 = buffer1.data();
        for (std::ptrdiff_t r = r0; r < r1; ++r) {
            const std::ptrdiff_t at = (r - r0) * n;
            Kind::fill(p.y_pred + r * n, n, b0 + at, b1 + at);
        }
        Kind::transform(b0, b1, len);
        double s = 0.0;
        for (std::ptrdiff_t r = r0; r < r1; ++r) {
            const double w = weights(r);
            const std::ptrdiff_t at = (r - r0) * n;
            s += w * Kind::row(target(r), p.y_pred + r * n, p.grad ? p.grad + r * n : nullptr, n,
                               w * inv_rows, b0 + at, b1 + at);
        }
        return s;
    });
}

template <class T, class L>
double sparse_loss(const LossProblem<T>& p, const L* labels) {
    auto label = [labels](std::ptrdiff_t r) { return static_cast<std::ptrdiff_t>(labels[r]); };
    if (p.from_logits) {
        return buffered_loss<loss_rows::SparseCategoricalCrossentropyLogits<T>>(p, label);
    }
    const std::ptrdiff_t n = p.cols;
    return plain_loss(p, [&](std::ptrdiff_t r, double k) {
        return loss_rows::sparse_categorical_crossentropy<T>(
            label(r), p.y_pred + r * n, p.grad ? p.grad + r * n : nullptr, n, k);
    });
}

// Losses with dense targets and no exp/log: row_fn(t, x, g, n, k) -> l.
template <class T, class RowFn>
double dense_loss(const LossProblem<T>& p, RowFn row_fn) {
    const std::ptrdiff_t n = p.cols;
    return plain_loss(p, [&](std::ptrdiff_t r, double k) {
        return row_fn(p.y_true + r * n, p.y_pred + r * n, p.grad ? p.grad + r * n : nullptr, n, k);
    });
}

template <class Kind, class T>
double dense_buffered_loss(const LossProblem<T>& p) {
    const std::ptrdiff_t n = p.cols;
    return buffered_loss<Kind>(p, [&](std::ptrdiff_t r) { return p.y_true + r * n; });
}

}  // namespace

bool parse_loss(const std::string& name, LossKind* out) {
    for (const LossName& entry : kLossNames) {
        if (name == entry.name) {
            *out = entry.kind;
            return true;
        }
    }
    return false;
}

const char* loss_names() {
    return "mse, mae, huber, binary_crossentropy, categorical_crossentropy, "
           "sparse_categorical_crossentropy, kl_divergence, poisson, log_cosh, hinge, "
           "squared_hinge, categorical_hinge, cosine_similarity, msle, mape";
}

template <class T>
double loss(const LossProblem<T>& p) {
    if (p.rows <= 0 || p.cols <= 0) return 0.0;
    switch (p.kind) {
        case LossKind::mse:
            return dense_loss(p, loss_rows::mse<T>);
        case LossKind::mae:
            return dense_loss(p, loss_rows::mae<T>);
        case LossKind::huber: {
            const double delta = p.delta;
            return dense_loss(p, [delta](const T* t, const T* x, T* g, std::ptrdiff_t n, double k) {
                return loss_rows::huber<T>(t, x, g, n, k, delta);
            });
        }
        case LossKind::binary_crossentropy:
            return p.from_logits ? dense_buffered_loss<loss_rows::BinaryCrossentropyLogits<T>>(p)
                                 : dense_buffered_loss<loss_rows::BinaryCrossentropy<T>>(p);
        case LossKind::categorical_crossentropy:
            return p.from_logits
                       ? dense_buffered_loss<loss_rows::CategoricalCrossentropyLogits<T>>(p)
                       : dense_buffered_loss<loss_rows::CategoricalCrossentropy<T>>(p);
        case LossKind::sparse_categorical_crossentropy:
            if (p.labels_i64) return sparse_loss(p, p.labels_i64);
            if (p.labels_i32) return sparse_loss(p, p.labels_i32);
            return std::numeric_limits<double>::quiet_NaN();  // no labels given
        case LossKind::kl_divergence:
            return dense_loss(p, loss_rows::kl_divergence<T>);
        case LossKind::poisson:
            return dense_loss(p, loss_rows::poisson<T>);
        case LossKind::log_cosh:
            return dense_loss(p, loss_rows::log_cosh<T>);
        case LossKind::hinge:
        case LossKind::squared_hinge: {
            // Keras maps 0/1 targets to -1/1 when the whole batch is binary.
            const bool binary = loss_rows::all_binary(p.y_true, p.rows * p.cols);
            if (p.kind == LossKind::hinge) {
                return dense_loss(p, [binary](const T* t, const T* x, T* g, std::ptrdiff_t n,
                                              double k) {
                    return loss_rows::hinge<false, T>(t, x, g, n, k, binary);
                });
            }
            return dense_loss(p, [binary](const T* t, const T* x, T* g, std::ptrdiff_t n,
                                          double k) {
                return loss_rows::hinge<true, T>(t, x, g, n, k, binary);
            });
        }
        case LossKind::categorical_hinge:
            return dense_loss(p, loss_rows::categorical_hinge<T>);
        case LossKind::cosine_similarity:
            return dense_loss(p, loss_rows::cosine_similarity<T>);
        case LossKind::msle:
            return dense_loss(p, loss_rows::msle<T>);
        case LossKind::mape:
            return dense_loss(p, loss_rows::mape<T>);
    }
    return 0.0;
}

template <class L>
std::ptrdiff_t find_bad_label(const L* labels, std::ptrdiff_t n, std::ptrdiff_t classes) {
    for (std::ptrdiff_t i = 0; i < n; ++i) {
        if (labels[i] < 0 || static_cast<std::int64_t>(labels[i]) >= classes) return i;
    }
    return -1;
}

template double loss<float>(const LossProblem<float>&);
template double loss<double>(const LossProblem<double>&);
template std::ptrdiff_t find_bad_label<std::int32_t>(const std::int32_t*, std::ptrdiff_t,
                                                     std::ptrdiff_t);
template std::ptrdiff_t find_bad_label<std::int64_t>(const std::int64_t*, std::ptrdiff_t,
                                                     std::ptrdiff_t);

}  // namespace pydl::nn
