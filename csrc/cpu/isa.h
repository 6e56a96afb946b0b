// SIMD paths and run-time dispatch.
//
// Every kernel area keeps its own table of function pointers. The table starts
// with the portable (generic) kernels; an area registers an installer that,
// given the chosen path, overrides the entries it has faster versions of:
//
//     static void install(pydl::Isa isa) {
//         table = generic_table();
//         if (isa >= pydl::Isa::avx2)   table.fn = fn__avx2;
//         if (isa >= pydl::Isa::avx512) table.fn = fn__avx512;
//     }
//     PYDL_REGISTER_KERNELS(install);
//
// `select_isa(cap)` chooses min(cap, detected) once at import (pydl/_config.py
// passes PYDL_ISA as the cap) and runs every installer. Tests call it again to
// force the lower paths on a higher machine; it is not meant for concurrent use
// with running kernels.
//
// `avx512_bf16` is AVX-512 plus AVX512_BF16 (VCVTNE2PS2BF16, VDPBF16PS): the
// float kernels are the avx512 ones; it adds the bfloat16 GEMM (gemm/bf16.h).
// Capping at `avx512` (PYDL_ISA=avx512) turns the bfloat16 kernels off.
//
// Per-ISA sources are named `<name>__avx2.cpp` / `<name>__avx512.cpp` /
// `<name>__avx512_bf16.cpp` and get their flags from CMake.
// They must keep everything they define inside a
// namespace of their own (e.g. `pydl::avx2`) and avoid std containers or other
// out-of-line std templates: the linker may otherwise pick an AVX-512 copy of a
// shared inline function for generic callers.
#pragma once

namespace pydl {

enum class Isa : int { generic = 0, avx2 = 1, avx512 = 2, avx512_bf16 = 3 };

const char* isa_name(Isa isa);
// Parses "generic", "avx2", "avx512" or "avx512_bf16"; returns false for anything else.
bool parse_isa(const char* name, Isa* out);

// Best path that this CPU and OS support (among the compiled ones).
Isa detected_isa();
// Path whose kernels are installed now.
Isa active_isa();
// Installs min(cap, detected_isa()) in every area; returns the path chosen.
Isa select_isa(Isa cap);

using KernelInstaller = void (*)(Isa);
// Adds an area's installer; runs it at once with the active path.
bool register_kernel_installer(KernelInstaller installer);

}  // namespace pydl

#define PYDL_REGISTER_KERNELS_CONCAT2(a, b) a##b
#define PYDL_REGISTER_KERNELS_CONCAT(a, b) PYDL_REGISTER_KERNELS_CONCAT2(a, b)
#define PYDL_REGISTER_KERNELS(installer)                                              \
    [[maybe_unused]] static const bool PYDL_REGISTER_KERNELS_CONCAT(pydl_kernels_, __LINE__) = \
        ::pydl::register_kernel_installer(installer)
