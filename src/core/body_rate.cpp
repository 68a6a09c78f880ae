#include "switchyard/core/body_rate.hpp"

namespace switchyard {

void BodyRateMeter::reset(bool clock_running, std::uint64_t received) noexcept {
    waited_ = {};
    read_since_ = Clock::time_point::max();
    received_ = received;
    running_ = clock_running || received > 0;
}

void BodyRateMeter::read_started(Clock::time_point now) noexcept {
    if (running_) read_since_ = now;
}

void BodyRateMeter::read_done(Clock::time_point now, std::uint64_t bytes) noexcept {
    if (read_since_ != Clock::time_point::max() && now > read_since_) waited_ += now - read_since_;
    read_since_ = Clock::time_point::max();
    received_ += bytes;
    if (bytes > 0) running_ = true;
}

BodyRateMeter::Clock::duration BodyRateMeter::waited(Clock::time_point now) const noexcept {
    if (read_since_ == Clock::time_point::max() || now <= read_since_) return waited_;
    return waited_ + (now - read_since_);
}

bool BodyRateMeter::too_slow(Clock::time_point now, std::uint64_t min_rate,
                             Duration grace) const noexcept {
    if (min_rate == 0) return false;
    const auto over = waited(now) - grace;
    if (over <= Clock::duration::zero()) return false;
    // In double: min_rate × seconds may exceed 64 bits for absurd settings.
    const double due = static_cast<double>(min_rate) * std::chrono::duration<double>(over).count();
    return static_cast<double>(received_) < due;
}

}  // namespace switchyard
