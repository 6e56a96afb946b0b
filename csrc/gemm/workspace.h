// Per-thread packing buffers: each thread keeps one A and one B buffer that grow
// to the largest block it has packed and are then reused, so a GEMM allocates
// nothing after the first call at a given size. thread_local, never a shared
// static: concurrent GEMMs on different threads never share scratch.
#pragma once

#include <cstddef>
#include <new>

namespace pydl::gemm {

class AlignedBuffer {
public:
    AlignedBuffer() = default;
    AlignedBuffer(const AlignedBuffer&) = delete;
    AlignedBuffer& operator=(const AlignedBuffer&) = delete;
    ~AlignedBuffer() { release(); }

    // At least `bytes` bytes, 64-byte aligned; contents are not preserved on growth.
    void* get(std::size_t bytes) {
        if (bytes > capacity_) {
            release();
            data_ = ::operator new(bytes, std::align_val_t(kAlign));
            capacity_ = bytes;
        }
        return data_;
    }

private:
    static constexpr std::size_t kAlign = 64;
    void release() {
        if (data_) ::operator delete(data_, std::align_val_t(kAlign));
        data_ = nullptr;
        capacity_ = 0;
    }
    void* data_ = nullptr;
    std::size_t capacity_ = 0;
};

struct PackBuffers {
    AlignedBuffer a, b;
};

// The calling thread's buffers.
PackBuffers& thread_pack_buffers();

}  // namespace pydl::gemm
