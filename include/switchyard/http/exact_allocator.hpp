// ExactAllocator: memory for one Asio operation, of its own size.
//
// Asio gives an operation whose handler has no allocator of its own a block
// from a small per-thread cache, and any cached block at least as large
// will do. A read that waits on an idle connection for a long time would
// then keep the block of the (larger) operation that ran just before it, the
// response's write: hundreds of bytes more per idle connection. Binding
// this allocator (boost::asio::bind_allocator) to such a read's handler
// gives it a block of exactly its size instead.
#pragma once

#include <cstddef>
#include <new>

namespace switchyard::http {

template <class T>
struct ExactAllocator {
    using value_type = T;

    ExactAllocator() noexcept = default;
    template <class U>
    ExactAllocator(const ExactAllocator<U>&) noexcept {}

    T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T))); }
    void deallocate(T* p, std::size_t) noexcept { ::operator delete(p); }

    template <class U>
    bool operator==(const ExactAllocator<U>&) const noexcept {
        return true;
    }
};

}  // namespace switchyard::http
