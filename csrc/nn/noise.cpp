#include "nn/noise.h"

#include "cpu/threads.h"

namespace pydl::nn {

using std::ptrdiff_t;

namespace {
constexpr ptrdiff_t kGrain = 16384;
}

template <class T>
void gaussian_noise(const T* x, const float* noise, ptrdiff_t n, T* out) {
    parallel_for(n, kGrain, [&](ptrdiff_t b, ptrdiff_t e) {
        for (ptrdiff_t i = b; i < e; ++i) out[i] = x[i] + static_cast<T>(noise[i]);
    });
}

template <class T>
void noise_multiply(const T* v, const float* noise, ptrdiff_t n, T* out) {
    parallel_for(n, kGrain, [&](ptrdiff_t b, ptrdiff_t e) {
        for (ptrdiff_t i = b; i < e; ++i) out[i] = v[i] * static_cast<T>(noise[i]);
    });
}

template <class T>
void alpha_dropout_forward(const T* x, const float* u, float threshold, T a, T a_alpha_p, T b,
                           ptrdiff_t n, T* out) {
    parallel_for(n, kGrain, [&](ptrdiff_t lo, ptrdiff_t hi) {
        for (ptrdiff_t i = lo; i < hi; ++i) {
            const T k = static_cast<T>(u[i] >= threshold);
            const T scale = a * k;
            const T shift = a_alpha_p * (T(1) - k) + b;
            const T scaled = x[i] * scale;
            out[i] = scaled + shift;
        }
    });
}

template <class T>
void alpha_dropout_backward(const T* dy, const float* u, float threshold, T a, ptrdiff_t n,
                            T* dx) {
    parallel_for(n, kGrain, [&](ptrdiff_t lo, ptrdiff_t hi) {
        for (ptrdiff_t i = lo; i < hi; ++i) dx[i] = dy[i] * (a * static_cast<T>(u[i] >= threshold));
    });
}

#define PYDL_NOISE(T)                                                                         \
    template void gaussian_noise<T>(const T*, const float*, ptrdiff_t, T*);                   \
    template void noise_multiply<T>(const T*, const float*, ptrdiff_t, T*);                   \
    template void alpha_dropout_forward<T>(const T*, const float*, float, T, T, T, ptrdiff_t, \
                                           T*);                                               \
    template void alpha_dropout_backward<T>(const T*, const float*, float, T, ptrdiff_t, T*);
PYDL_NOISE(float)
PYDL_NOISE(double)
#undef PYDL_NOISE

}  // namespace pydl::nn
