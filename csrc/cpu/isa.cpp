#include "cpu/isa.h"

#include <cstring>
#include <mutex>
#include <vector>

#if defined(PYDL_X86)
#include <cpuid.h>
#endif

namespace pydl {
namespace {

// Whether this build has the avx512_bf16 kernels (CMake defines PYDL_BF16 when the
// compiler takes -mavx512bf16).
constexpr bool bf16_compiled() {
#if defined(PYDL_BF16)
    return true;
#else
    return false;
#endif
}

#if defined(PYDL_X86)
unsigned long long read_xcr0() {
    unsigned int eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return (static_cast<unsigned long long>(edx) << 32) | eax;
}

Isa detect() {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return Isa::generic;
    const bool osxsave = ecx & (1u << 27);
    const bool avx = ecx & (1u << 28);
    const bool fma = ecx & (1u << 12);
    if (!osxsave || !avx) return Isa::generic;
    const unsigned long long xcr0 = read_xcr0();
    const bool os_ymm = (xcr0 & 0x6) == 0x6;      // SSE + AVX state
    const bool os_zmm = (xcr0 & 0xE6) == 0xE6;    // + opmask, ZMM_Hi256, Hi16_ZMM
    if (!os_ymm || __get_cpuid_max(0, nullptr) < 7) return Isa::generic;
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    const bool avx2 = ebx & (1u << 5);
    // "AVX-512" means the whole core set, as oneDNN's avx512_core: F, DQ, BW, VL.
    const bool avx512 = (ebx & (1u << 16)) && (ebx & (1u << 17)) && (ebx & (1u << 30)) &&
                        (ebx & (1u << 31));
    if (avx512 && avx2 && fma && os_zmm) {
        // AVX512_BF16: CPUID leaf 7, subleaf 1, EAX bit 5 (the OS state is the ZMM one).
        if (eax >= 1) {
            unsigned int a1, b1, c1, d1;
            __cpuid_count(7, 1, a1, b1, c1, d1);
            if (a1 & (1u << 5)) return bf16_compiled() ? Isa::avx512_bf16 : Isa::avx512;
        }
        return Isa::avx512;
    }
    if (avx2 && fma) return Isa::avx2;
    return Isa::generic;
}
#else
Isa detect() { return Isa::generic; }
#endif

struct Registry {
    std::mutex mutex;
    std::vector<KernelInstaller> installers;
    Isa active = Isa::generic;
};

Registry& registry() {
    static Registry r;  // function-local: safe whatever the static-init order
    return r;
}

}  // namespace

const char* isa_name(Isa isa) {
    switch (isa) {
        case Isa::avx512_bf16: return "avx512_bf16";
        case Isa::avx512: return "avx512";
        case Isa::avx2: return "avx2";
        default: return "generic";
    }
}

bool parse_isa(const char* name, Isa* out) {
    for (Isa isa : {Isa::generic, Isa::avx2, Isa::avx512, Isa::avx512_bf16}) {
        if (std::strcmp(name, isa_name(isa)) == 0) {
            *out = isa;
            return true;
        }
    }
    return false;
}

Isa detected_isa() {
    static const Isa isa = detect();
    return isa;
}

Isa active_isa() {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    return r.active;
}

Isa select_isa(Isa cap) {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    const Isa detected = detected_isa();
    r.active = static_cast<int>(cap) < static_cast<int>(detected) ? cap : detected;
    for (KernelInstaller install : r.installers) install(r.active);
    return r.active;
}

bool register_kernel_installer(KernelInstaller installer) {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    r.installers.push_back(installer);
    installer(r.active);
    return true;
}

}  // namespace pydl
