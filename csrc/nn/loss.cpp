#include "nn/loss.h"

#include <algorithm>
#include <limits>

#include "nn/loss_rows.h"
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
};

// About this many values per block of rows: enough work to amortize a block,
// and several blocks per thread on typical batches.
constexpr std::ptrdiff_t kBlockValues = 4096;
// Below about this many values the loss runs on one thread.
constexpr std::ptrdiff_t kParallelValues = 32768;

// sum_r(w_r * l_r) / rows, where row_loss(r, k) returns l_r and writes the
// row's gradient scaled by k = w_r / rows.
template <class T, class RowLoss>
double reduce_rows(const LossProblem<T>& p, RowLoss&& row_loss) {
    const std::ptrdiff_t rows = p.rows;
    if (rows <= 0) return 0.0;
    const std::ptrdiff_t rows_per_sample = p.batch > 0 ? rows / p.batch : rows;
    const double inv_rows = 1.0 / static_cast<double>(rows);
    const std::ptrdiff_t block_rows = std::max<std::ptrdiff_t>(1, kBlockValues / p.cols);
    const std::ptrdiff_t grain_blocks =
        std::max<std::ptrdiff_t>(1, kParallelValues / (block_rows * p.cols));
    const T* sw = p.sample_weight;
    const double total =
        blocked_sum(rows, block_rows, grain_blocks, [&](std::ptrdiff_t r0, std::ptrdiff_t r1) {
            double s = 0.0;
            for (std::ptrdiff_t r = r0; r < r1; ++r) {
                const double w = sw ? static_cast<double>(sw[r / rows_per_sample]) : 1.0;
                s += w * row_loss(r, w * inv_rows);
            }
            return s;
        });
    return total / static_cast<double>(rows);
}

template <class T, class L>
double sparse_loss(const LossProblem<T>& p, const L* labels) {
    const std::ptrdiff_t n = p.cols;
    auto grad_row = [&](std::ptrdiff_t r) { return p.grad ? p.grad + r * n : nullptr; };
    if (p.from_logits) {
        return reduce_rows(p, [&](std::ptrdiff_t r, double k) {
            return loss_rows::sparse_categorical_crossentropy_logits<T>(
                static_cast<std::ptrdiff_t>(labels[r]), p.y_pred + r * n, grad_row(r), n, k);
        });
    }
    return reduce_rows(p, [&](std::ptrdiff_t r, double k) {
        return loss_rows::sparse_categorical_crossentropy<T>(static_cast<std::ptrdiff_t>(labels[r]),
                                                             p.y_pred + r * n, grad_row(r), n, k);
    });
}

// Losses with dense targets: row_fn(t, x, g, n, k) -> l.
template <class T, class RowFn>
double dense_loss(const LossProblem<T>& p, RowFn row_fn) {
    const std::ptrdiff_t n = p.cols;
    return reduce_rows(p, [&](std::ptrdiff_t r, double k) {
        return row_fn(p.y_true + r * n, p.y_pred + r * n, p.grad ? p.grad + r * n : nullptr, n, k);
    });
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
           "sparse_categorical_crossentropy";
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
            return p.from_logits ? dense_loss(p, loss_rows::binary_crossentropy_logits<T>)
                                 : dense_loss(p, loss_rows::binary_crossentropy<T>);
        case LossKind::categorical_crossentropy:
            return p.from_logits ? dense_loss(p, loss_rows::categorical_crossentropy_logits<T>)
                                 : dense_loss(p, loss_rows::categorical_crossentropy<T>);
        case LossKind::sparse_categorical_crossentropy:
            if (p.labels_i64) return sparse_loss(p, p.labels_i64);
            if (p.labels_i32) return sparse_loss(p, p.labels_i32);
            return std::numeric_limits<double>::quiet_NaN();  // no labels given
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
