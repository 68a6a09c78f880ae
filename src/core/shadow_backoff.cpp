#include "switchyard/core/shadow_backoff.hpp"

#include <algorithm>

namespace switchyard {

void ShadowBackoff::record(bool ok, Clock::time_point now) {
    if (ok) {
        reset();
        return;
    }
    if (++failures_ < kFailuresInRow) return;
    // Copies that were already on their way may fail after the pause began:
    // they do not extend it, only a failed copy after it ended does.
    if (now < paused_until_) return;
    paused_until_ = now + pause_;
    pause_ = std::min<Clock::duration>(pause_ * 2, kMaxPause);
}

}  // namespace switchyard
