// TokenBucket: a rate limit on events a peer causes (HTTP/2 SETTINGS and
// PING frames, resets): up to `burst` at once, then `rate` per second.
// Pure: the caller gives the time, so tests need no clock.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "switchyard/core/clock.hpp"

namespace switchyard {

class TokenBucket {
  public:
    TokenBucket(std::uint32_t burst, std::uint32_t rate_per_second, Clock::time_point now)
        : burst_(burst), rate_(rate_per_second), tokens_(burst), last_(now) {}

    // Takes one token; false when there is none (the event is one too many).
    bool take(Clock::time_point now) {
        refill(now);
        if (tokens_ < 1.0) return false;
        tokens_ -= 1.0;
        return true;
    }

  private:
    void refill(Clock::time_point now) {
        if (now <= last_) return;
        const double seconds = std::chrono::duration<double>(now - last_).count();
        tokens_ = std::min<double>(burst_, tokens_ + seconds * rate_);
        last_ = now;
    }

    std::uint32_t burst_;
    std::uint32_t rate_;
    double tokens_;
    Clock::time_point last_;
};

}  // namespace switchyard
