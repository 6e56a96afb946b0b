// Losses and their gradients, as Keras 3 defines them (docs/core_api.md, "Losses").
//
// y_pred is viewed as `rows` rows of `cols` values: rows = prod(shape[:-1]),
// cols = shape[-1] (a 1-D y_pred of B values is B rows of 1). The first axis is
// the batch of `batch` samples, so each sample owns rows / batch consecutive
// rows and its sample weight applies to all of them.
//
//   per-row loss l_r : mean over the row (mse, mae, huber, binary_crossentropy,
//                      msle, mape, log_cosh, poisson, hinge, squared_hinge), sum over
//                      the row (categorical, sparse categorical, kl_divergence), or a
//                      whole-row quantity (categorical_hinge, cosine_similarity)
//   returned value   : sum_r(w_r * l_r) / rows        (Keras "sum_over_batch_size")
//   grad (optional)  : d(returned value) / d(y_pred)
//
// Probabilities are clipped to [1e-7, 1 - 1e-7] (the clip has zero gradient
// outside); categorical losses on probabilities first divide each row by its
// sum. from_logits uses log-sum-exp (softmax) or max(x,0) - x*y + log1p(exp(-|x|))
// (sigmoid), with gradients (softmax(x) * sum(y) - y) * w_r / rows and
// (sigmoid(x) - y) * w_r / (rows * cols). The total is accumulated in double over
// fixed blocks of rows (bitwise identical at any thread count). NaN in any input
// propagates to the result; nothing traps.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace pydl::nn {

enum class LossKind : int {
    mse,
    mae,
    huber,
    binary_crossentropy,
    categorical_crossentropy,
    sparse_categorical_crossentropy,
    // Second milestone (Keras 3 formulas: nn/loss_rows_{regression,probabilistic,hinge}.h).
    kl_divergence,
    poisson,
    log_cosh,
    hinge,
    squared_hinge,
    categorical_hinge,
    cosine_similarity,  // over the last axis
    msle,               // mean squared logarithmic error
    mape,               // mean absolute percentage error
};

// Parses a name of docs/core_api.md; false when unknown.
bool parse_loss(const std::string& name, LossKind* out);
// "mse, mae, ..." for error messages.
const char* loss_names();

template <class T>
struct LossProblem {
    LossKind kind = LossKind::mse;
    const T* y_pred = nullptr;  // rows * cols
    // Dense targets (every kind but sparse): rows * cols values.
    const T* y_true = nullptr;
    // Sparse targets: rows class indices, exactly one of the two set. A value
    // outside [0, cols) gives a NaN row loss (never an out-of-bounds read);
    // callers report such labels first with find_bad_label.
    const std::int32_t* labels_i32 = nullptr;
    const std::int64_t* labels_i64 = nullptr;
    const T* sample_weight = nullptr;  // batch values, or nullptr (all 1)
    // Receives the gradient (rows * cols), or nullptr. May be the same array as
    // y_pred (the gradient then overwrites the predictions); no other overlap.
    T* grad = nullptr;
    std::ptrdiff_t batch = 0;  // divides rows
    std::ptrdiff_t rows = 0;
    std::ptrdiff_t cols = 0;   // >= 1
    bool from_logits = false;  // crossentropy kinds only
    double delta = 1.0;        // huber only
};

// Computes the loss (and the gradient when p.grad is set). Returns 0 when
// rows == 0. Parallel over fixed blocks of rows; runs serially when called from
// inside a parallel region.
template <class T>
double loss(const LossProblem<T>& p);

// Position of the first label outside [0, classes), or -1 when all are valid.
template <class L>
std::ptrdiff_t find_bad_label(const L* labels, std::ptrdiff_t n, std::ptrdiff_t classes);

}  // namespace pydl::nn
