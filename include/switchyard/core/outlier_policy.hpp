// OutlierPolicy: passive outlier detection for one pool (its `outlier`
// settings). Workers report how their attempts to each server ended; the
// control thread feeds the reports in here, because only it sees the whole
// pool and so can enforce the cap on how much of it is ejected.
// What comes out are events (ejected, returned, cap reached) for the logs
// and PassiveStatus per server for the HealthView.
//
// The rules (Envoy's consecutive-5xx detector, simplified):
//  - Failures are connect failures, resets, timeouts and 5xx responses; a
//    success resets the server's count. Reports about a server that is
//    ejected are ignored (they come from attempts started before).
//  - After `consecutive_failures` failures in a row the server is ejected
//    for base_ejection × its level, where the level goes up by one with
//    every ejection (1, 2, 3 …) and stops at 10; the time is also capped at
//    max(base_ejection, 300 s) (Envoy's default max_ejection_time). With the
//    default 30 s base: 30 s, 60 s … 300 s.
//  - Decay: each full longest ejection (ejection_time(10): 300 s with the
//    default base, 10 s with a 1 s base) that a server spends back in
//    service forgives one level, counted when it is next ejected; so a
//    server that fails once a day starts at the base again.
//  - Cap: at most max(1, floor(pool size × max_ejected_percent / 100))
//    servers are ejected at once (never more than the pool). As in Envoy, at
//    least one server may always be ejected even when the percentage rounds
//    down to 0 (a one-server canary pool must be able to lose its server, so
//    its share fails over to the active pool); max_ejected_percent = 0 turns
//    ejection off. Unhealthy (actively checked) servers do not count
//    against the cap. A server refused by the cap keeps its count, so its
//    next failure tries again once another server has returned; the refusal
//    is reported once per streak.
//  - An ejection ends when `now` reaches its end (inclusive): every call
//    taking `now` first returns the servers whose time has come.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/core/health_view.hpp"
#include "switchyard/core/settings.hpp"

namespace switchyard {

// How a worker's attempt to a server ended, as far as outlier detection is
// concerned.
enum class PassiveOutcome { success, connect_failure, reset, timeout, server_error };

struct PassiveResult {
    PassiveOutcome outcome = PassiveOutcome::success;
    std::uint16_t status = 0;  // server_error: the 5xx status
    bool operator==(const PassiveResult&) const = default;
};

// A response's status as a report: 500-599 is a server_error with the
// status, anything else a success (4xx is the client's fault).
PassiveResult passive_result_for_status(std::uint16_t status);

// "ok", "connect failure", "connection reset", "timeout", "status 503".
std::string describe(const PassiveResult& result);

struct OutlierEvent {
    enum class Kind {
        ejected,      // until, ejections and reason are set
        returned,     // the ejection ended; until is when it was due
        cap_reached,  // the server reached the threshold but the cap kept it in
    };
    Kind kind = Kind::ejected;
    std::string address;
    HealthTime until{};
    std::uint32_t ejections = 0;  // ejected: times ejected so far, this one included
    // ejected: "5 consecutive failures, last: status 503"
    // cap_reached: "5 consecutive failures, last: reset; not ejected: 1 of 2
    //               servers already ejected (max 50 %)"
    std::string reason;
    bool operator==(const OutlierEvent&) const = default;
};

class OutlierPolicy {
  public:
    // The ejection level stops here (base × 10) …
    static constexpr std::uint32_t kMaxLevel = 10;
    // … and no ejection lasts longer than this, unless the base itself does.
    static constexpr Duration kMaxEjection{300000};

    // `servers`: the pool's server addresses as configured (duplicates are
    // one server).
    OutlierPolicy(const OutlierSettings& settings, const std::vector<std::string>& servers);

    // A reload: new settings and servers. Servers still listed keep their
    // count, level and ejection (an ejection outlives a shrinking cap and
    // ends at its time); servers no longer listed are forgotten.
    void reconfigure(const OutlierSettings& settings, const std::vector<std::string>& servers);

    // A worker's report about `address` at `now`. Returns what happened, in
    // order: returns that were due by `now`, then possibly `ejected` or
    // `cap_reached` for this server. An address not in the pool is ignored.
    std::vector<OutlierEvent> record(std::string_view address, const PassiveResult& result,
                                     HealthTime now);

    // Ends the ejections due by `now` (until <= now), in address order.
    std::vector<OutlierEvent> release(HealthTime now);

    // The earliest end of an ejection in force, for the control thread's
    // timer; nullopt when nothing is ejected.
    std::optional<HealthTime> next_release() const;

    // What a hot upgrade carries over for one server: its ejection and the
    // back-off history that decides the next one's length.
    struct Memory {
        bool ejected = false;
        HealthTime until{};
        std::uint32_t level = 0;
        std::uint32_t ejections = 0;
        HealthTime returned{};  // when the last ejection ended
        std::string reason{};   // ejected: why
        bool operator==(const Memory&) const = default;
    };
    // A default Memory for an unknown address.
    Memory memory(std::string_view address) const;
    // Takes over a server's memory from the process this one replaces; an
    // address not in the pool is ignored. The failure streak starts anew.
    // An ejection in force stays even beyond the cap, as after a reload
    // that shrinks it.
    void restore(std::string_view address, const Memory& memory);

    // For combine_health(); a default PassiveStatus for an unknown address.
    PassiveStatus status(std::string_view address) const;
    // The current failure streak of `address` (0 when unknown).
    std::uint32_t failures(std::string_view address) const;

    std::size_t size() const { return servers_.size(); }
    std::size_t ejected_count() const;
    // How many servers may be ejected at once (see the cap rule above).
    std::size_t max_ejected() const;

    // The length of an ejection at `level` (1 for the first):
    // min(base × min(level, 10), max(base, 300 s)).
    Duration ejection_time(std::uint32_t level) const;

  private:
    struct Server {
        std::uint32_t failures = 0;
        PassiveResult last;
        bool ejected = false;
        HealthTime until{};
        std::uint32_t level = 0;      // the multiplier of the last ejection
        std::uint32_t ejections = 0;  // all ejections so far
        HealthTime returned{};        // when the last ejection ended
        std::string reason;
        bool cap_reported = false;  // a cap_reached event went out for this streak
    };

    std::string failure_reason(const Server& s) const;

    OutlierSettings settings_;
    std::map<std::string, Server, std::less<>> servers_;
};

// max(1, floor(servers × percent / 100)), at most `servers`; 0 for 0
// servers or 0 %.
std::size_t max_ejected_servers(std::size_t servers, std::uint32_t percent);

}  // namespace switchyard
