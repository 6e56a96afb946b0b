// Portable reference microkernel: the specification of gemm/ukernel.h in plain
// C++ and the oracle the SIMD kernels are tested against. Also the generic
// path's kernel (the compiler vectorizes the j loops for the baseline ISA).
#pragma once

#include <cstddef>

namespace pydl::gemm {

template <class T, int MR, int NR>
void gemm_ukernel_ref(std::ptrdiff_t k, const T* a, std::ptrdiff_t rs_a, std::ptrdiff_t cs_a,
                      const T* b, std::ptrdiff_t ldb, T* c, std::ptrdiff_t ldc, const T* bias,
                      bool load_c, int rows, int cols) {
    T acc[MR][NR];
    for (int i = 0; i < MR; ++i)
        for (int j = 0; j < NR; ++j) {
            const bool inside = i < rows && j < cols;
            acc[i][j] = !inside ? T(0) : load_c ? c[i * ldc + j] : (bias ? bias[j] : T(0));
        }
    for (std::ptrdiff_t p = 0; p < k; ++p) {
        const T* bp = b + p * ldb;
        for (int i = 0; i < MR; ++i) {
            const T ai = a[i * rs_a + p * cs_a];
            for (int j = 0; j < NR; ++j) acc[i][j] += ai * bp[j];
        }
    }
    for (int i = 0; i < rows; ++i)
        for (int j = 0; j < cols; ++j) c[i * ldc + j] = acc[i][j];
}

}  // namespace pydl::gemm
