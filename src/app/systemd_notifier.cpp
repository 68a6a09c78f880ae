#include "switchyard/app/systemd_notifier.hpp"

#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <ctime>

namespace switchyard::app {

void SystemdNotifier::ready(const std::string& status, int main_pid) const {
    if (main_pid > 0)
        sd_notifyf(0, "MAINPID=%d\nREADY=1\nSTATUS=%s", main_pid, status.c_str());
    else
        sd_notifyf(0, "READY=1\nSTATUS=%s", status.c_str());
}

void SystemdNotifier::reloading() const {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    const auto usec = static_cast<unsigned long long>(ts.tv_sec) * 1000000ULL +
                      static_cast<unsigned long long>(ts.tv_nsec) / 1000ULL;
    sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading", usec);
}

void SystemdNotifier::stopping() const {
    sd_notify(0, "STOPPING=1\nSTATUS=draining");
}

void SystemdNotifier::status(const std::string& text) const {
    sd_notifyf(0, "STATUS=%s", text.c_str());
}

void SystemdNotifier::watchdog() const {
    sd_notify(0, "WATCHDOG=1");
}

std::chrono::microseconds SystemdNotifier::watchdog_period(std::uint64_t inherited_usec) {
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0) return std::chrono::microseconds(usec);
    return std::chrono::microseconds(inherited_usec);
}

}  // namespace switchyard::app
