#include "nn/dropout.h"

#include "cpu/threads.h"

namespace pydl::nn {

template <class T>
void dropout_apply(const T* v, const float* u, float threshold, T scale, T* out,
                   std::ptrdiff_t n) {
    parallel_for(n, 16384, [&](std::ptrdiff_t b, std::ptrdiff_t e) {
        for (std::ptrdiff_t i = b; i < e; ++i) {
            // keep * scale, branch-free: a select compiles to a mispredicted branch.
            const T mask = static_cast<T>(u[i] >= threshold) * scale;
            out[i] = v[i] * mask;
        }
    });
}

template void dropout_apply<float>(const float*, const float*, float, float, float*,
                                   std::ptrdiff_t);
template void dropout_apply<double>(const double*, const float*, float, double, double*,
                                    std::ptrdiff_t);

}  // namespace pydl::nn
