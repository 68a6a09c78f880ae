#include "switchyard/proxy/server_slots.hpp"

namespace switchyard::proxy {

ServerSlots::Slot& ServerSlots::slot(std::uint64_t server_id) {
    std::lock_guard lock(mu_);
    auto& s = slots_[server_id];
    if (!s) s = std::make_unique<Slot>();
    return *s;
}

namespace {

// Increments `count` only while it stays within `limit`.
bool take_one(std::atomic<std::int64_t>& count, std::uint32_t limit) {
    std::int64_t now = count.load(std::memory_order_relaxed);
    while (now < static_cast<std::int64_t>(limit))
        if (count.compare_exchange_weak(now, now + 1, std::memory_order_acq_rel)) return true;
    return false;
}

}  // namespace

bool ServerSlots::try_acquire(Slot& slot, std::uint32_t limit) {
    return take_one(slot.active, limit);
}

bool ServerSlots::try_wait(Slot& slot, std::uint32_t max_pending) {
    return take_one(slot.pending, max_pending);
}

}  // namespace switchyard::proxy
