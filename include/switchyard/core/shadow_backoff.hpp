// ShadowBackoff: when a shadow pool keeps failing, stop copying to it for
// a while (DESIGN.md "Dark launch": a broken shadow must cost the users
// nothing). Each copy to a pool that refuses or resets costs a new
// connection, more than a copy that succeeds; after kFailuresInRow failed
// copies in a row the worker pauses copies for a backoff that doubles on
// every failed retry (kFirstPause up to kMaxPause) and ends with the first
// copy that succeeds. Pure: the caller passes the time.
#pragma once

#include <chrono>
#include <cstdint>

#include "switchyard/core/clock.hpp"

namespace switchyard {

class ShadowBackoff {
  public:
    static constexpr std::uint32_t kFailuresInRow = 5;
    static constexpr std::chrono::milliseconds kFirstPause{250};
    static constexpr std::chrono::milliseconds kMaxPause{10000};

    // May a copy go now? False while paused.
    bool allows(Clock::time_point now) const { return now >= paused_until_; }
    bool paused() const { return failures_ >= kFailuresInRow; }
    // A copy ended: answered (any status) or failed (error, timeout).
    void record(bool ok, Clock::time_point now);
    // Another shadow pool: start afresh.
    void reset() { *this = ShadowBackoff{}; }

  private:
    std::uint32_t failures_ = 0;
    Clock::duration pause_ = kFirstPause;
    Clock::time_point paused_until_{};
};

}  // namespace switchyard
