// SystemdNotifier: the sd_notify messages of a Type=notify service. Without
// NOTIFY_SOCKET every call does nothing, so it is always safe to call.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace switchyard::app {

class SystemdNotifier {
  public:
    // READY=1 with a STATUS= line; `main_pid`: also MAINPID= (the successor
    // of a hot upgrade says it is now the main process; the unit needs
    // NotifyAccess=all).
    void ready(const std::string& status, int main_pid = 0) const;
    // RELOADING=1 with MONOTONIC_USEC= (systemd ≥ 253 pairs it with the
    // following READY=1).
    void reloading() const;
    void stopping() const;
    void status(const std::string& text) const;
    void watchdog() const;

    // The watchdog period systemd asks for (WATCHDOG_USEC for this pid), or
    // `inherited_usec` from the process we replaced; zero when off.
    static std::chrono::microseconds watchdog_period(std::uint64_t inherited_usec);
};

}  // namespace switchyard::app
