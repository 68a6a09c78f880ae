// BodyRateMeter: is a client sending its request body too slowly?
//
// timeouts.client_body only bounds the idle time between two reads, so a
// body trickled at a few bytes a second would hold a connection for ever.
// As Apache's mod_reqtimeout MinRate does, a body must arrive at an average
// of at least `min_rate` bytes a second once `grace` has passed. The clock is
// the time Switchyard spent waiting for the client (a body read
// outstanding): while an upstream is slow to take the bytes already read,
// the client is not at fault and its clock stands still.
//
// Pure: the caller passes the time in.
#pragma once

#include <chrono>
#include <cstdint>

#include "switchyard/core/settings.hpp"

namespace switchyard {

class BodyRateMeter {
  public:
    using Clock = std::chrono::steady_clock;

    // A new body, with `received` bytes of it already in hand (read with the
    // head). `clock_running` false (Expect: 100-continue: the client waits
    // for an answer before it sends) starts the clock with the first byte.
    void reset(bool clock_running, std::uint64_t received) noexcept;
    // A read of body bytes from the client started / completed.
    void read_started(Clock::time_point now) noexcept;
    void read_done(Clock::time_point now, std::uint64_t bytes) noexcept;

    // True when, at `now`, fewer than min_rate × (waited − grace) bytes have
    // arrived. Never with min_rate 0 (off).
    bool too_slow(Clock::time_point now, std::uint64_t min_rate, Duration grace) const noexcept;

    Clock::duration waited(Clock::time_point now) const noexcept;
    std::uint64_t received() const noexcept { return received_; }

  private:
    Clock::duration waited_{};
    Clock::time_point read_since_ = Clock::time_point::max();  // max: no read outstanding
    std::uint64_t received_ = 0;
    bool running_ = false;
};

}  // namespace switchyard
