// Normalization kernels: the per-ISA work units behind nn/batchnorm.h and
// nn/layernorm.h (internal to the normalization area).
//
// The loops live in nn/norm_loops.h, written once and compiled per SIMD path:
// norm_kernels.cpp (generic), norm__avx2.cpp and norm__avx512.cpp each include
// it inside a namespace of their own and return a table of its functions. The
// threaded drivers (batchnorm.cpp, layernorm.cpp) split the work into units and
// call the installed table; each unit is serial, so which thread runs it never
// changes a result.
//
// Every sum is accumulated in double in a fixed order (norm_loops.h): a column sum
// over rows in row order, a row (segment) sum in kLanes interleaved lanes added as a
// pairwise tree, then its tail. The order depends only on the shapes, never on the
// thread count or the unit split.
#pragma once

#include <cstddef>

namespace pydl::nn::norm_detail {

using std::ptrdiff_t;

// Lanes of the double accumulators of a contiguous (segment) sum: several independent
// chains of vector additions.
inline constexpr int kLanes = 32;
// Widest column block of the column-wise kernels (their accumulators live on the stack).
inline constexpr ptrdiff_t kMaxColumnBlock = 256;

// Batch normalization of channels [c0, c1), x viewed as (outer, channels, inner);
// "cols" units take inner == 1 (x is (outer, channels): a block of at most
// kMaxColumnBlock columns, summed over rows), "channel" units inner > 1 (each channel
// a set of contiguous segments). gamma / beta may be null (1 / 0).
template <class T>
struct BatchNormUnit {
    const T* x;
    const T* gamma;
    const T* beta;
    ptrdiff_t outer, channels, inner;
    double epsilon;
    // Forward. training: write mean, variance (biased) and inv_std = 1/sqrt(var + eps)
    // from the batch; else read mean and variance and write inv_std.
    bool training;
    T* y;
    T* mean;
    T* variance;
    T* inv_std;
    // Backward (dy, dx; dgamma/dbeta may be null). With batch statistics (training)
    // the gradient also flows through the mean and variance.
    const T* dy;
    T* dx;
    T* dgamma;
    T* dbeta;
};

// Layer normalization of rows [r0, r1) of a (rows, cols) matrix (the normalized
// axes flattened last). rms_scaling: y = x * rstd * gamma (Keras 3's rms_scaling,
// whose rstd is still that of the centered variance); else
// y = (x - mean) * rstd * gamma + beta. gamma / beta may be null (1 / 0).
template <class T>
struct LayerNormUnit {
    const T* x;
    const T* gamma;
    const T* beta;
    ptrdiff_t rows, cols;
    double epsilon;
    bool rms_scaling;
    T* y;
    T* mean;  // rows
    T* rstd;  // rows
    const T* dy;
    T* dx;
    T* dgamma;
    T* dbeta;
};

template <class T>
struct NormTable {
    // One column block [c0, c1) (inner == 1) / one run of channels (inner > 1).
    void (*batchnorm_forward_cols)(const BatchNormUnit<T>&, ptrdiff_t c0, ptrdiff_t c1);
    void (*batchnorm_forward_channels)(const BatchNormUnit<T>&, ptrdiff_t c0, ptrdiff_t c1);
    void (*batchnorm_backward_cols)(const BatchNormUnit<T>&, ptrdiff_t c0, ptrdiff_t c1);
    void (*batchnorm_backward_channels)(const BatchNormUnit<T>&, ptrdiff_t c0, ptrdiff_t c1);
    // Rows [r0, r1): forward (y, mean, rstd) and backward dx.
    void (*layernorm_forward_rows)(const LayerNormUnit<T>&, ptrdiff_t r0, ptrdiff_t r1);
    void (*layernorm_backward_rows)(const LayerNormUnit<T>&, ptrdiff_t r0, ptrdiff_t r1);
    // Columns [j0, j1) (at most kMaxColumnBlock): dgamma / dbeta summed over all rows.
    void (*layernorm_param_grads_cols)(const LayerNormUnit<T>&, ptrdiff_t j0, ptrdiff_t j1);
};

#define PYDL_NORM_DECLARE(ns)          \
    namespace ns {                     \
    NormTable<float> table_f32();      \
    NormTable<double> table_f64();     \
    }
PYDL_NORM_DECLARE(generic)
PYDL_NORM_DECLARE(avx2)
PYDL_NORM_DECLARE(avx512)
#undef PYDL_NORM_DECLARE

// The installed table (norm_kernels.cpp).
const NormTable<float>& norm_table(float*);
const NormTable<double>& norm_table(double*);

}  // namespace pydl::nn::norm_detail
