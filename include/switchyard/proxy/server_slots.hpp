// ServerSlots: requests at once per upstream server, across all workers
// (pools.*.max_connections_per_server and max_pending_per_server).
//
// A limit is per server, not per worker, so its count is the one piece of
// request-path state that workers share. It is touched only for pools that
// set a limit, once when a request takes a server and once when it ends;
// each worker caches the slot of a server in its ServerLoad, so the map
// (and its mutex) is seen once per server and worker, never per request.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace switchyard::proxy {

class ServerSlots {
  public:
    struct Slot {
        std::atomic<std::int64_t> active{0};   // requests and tunnels holding a slot
        std::atomic<std::int64_t> pending{0};  // requests waiting for one
    };

    // The slot of a server identity; created on first use and never erased,
    // so the reference stays valid for the life of this object.
    Slot& slot(std::uint64_t server_id);

    // Takes a slot if fewer than `limit` are held (pools without a limit
    // never come here).
    static bool try_acquire(Slot& slot, std::uint32_t limit);
    static void release(Slot& slot) { slot.active.fetch_sub(1, std::memory_order_acq_rel); }
    // Joins the wait if fewer than `max_pending` requests wait already.
    static bool try_wait(Slot& slot, std::uint32_t max_pending);
    static void stop_waiting(Slot& slot) { slot.pending.fetch_sub(1, std::memory_order_acq_rel); }

  private:
    std::mutex mu_;
    std::unordered_map<std::uint64_t, std::unique_ptr<Slot>> slots_;
};

}  // namespace switchyard::proxy
