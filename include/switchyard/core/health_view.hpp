// HealthView: the immutable health snapshot that workers read (DESIGN.md,
// "Health is its own snapshot").
//
// The control thread owns the deciders (HealthTracker per server for active
// checks, OutlierPolicy per pool for passive ejection), combines what they
// say into one ServerHealth per server, and publishes a new
// std::shared_ptr<const HealthView> to every worker whenever something
// changed. Workers only ask `usable()`; status and the cutover gates read the
// rest. Nothing here reads a clock: times are passed in.
//
// Keying: pool name + server address as configured ("127.0.0.1:9001",
// "app.internal:80"), not ServerState::id. The id changes with every DNS
// answer and is meaningless to another process, while the name pair is what
// the config, the state file, `server POOL ADDRESS`, metrics labels and a
// hot upgrade's hand-over all use; health therefore survives routing
// snapshots, reloads that keep the server, DNS changes and upgrades.
//
// Times are std::chrono::steady_clock time points. On Linux that clock is
// CLOCK_MONOTONIC, shared by every process of the host, so an ejection's end
// handed to a new process during an upgrade keeps its meaning.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/core/routing_state.hpp"
#include "switchyard/core/settings.hpp"

namespace switchyard {

using HealthTime = std::chrono::steady_clock::time_point;

// unknown: no verdict yet (takes traffic; the cutover gates treat it as
// failing). ejected: passive outlier detection took it out until a time.
enum class HealthState { unknown, healthy, unhealthy, ejected };

// How the last active check ended. `none`: no check has finished yet.
enum class CheckOutcome { none, ok, timeout, refused, reset, bad_status, bad_response, other };

struct CheckResult {
    CheckOutcome outcome = CheckOutcome::none;
    std::uint16_t status = 0;  // the HTTP status when one arrived (ok, bad_status)
    std::string detail;        // optional free text (other, bad_response): "TLS handshake failed"
    bool operator==(const CheckResult&) const = default;
};

// "unknown", "healthy", "unhealthy", "ejected".
std::string_view to_string(HealthState state);
// "none", "ok", "timeout", "refused", "reset", "bad_status", "bad_response",
// "other": stable tokens for JSON and metrics.
std::string_view to_string(CheckOutcome outcome);
// The inverses, for a hot upgrade's hand-over; nullopt for any other text.
std::optional<HealthState> health_state_from_string(std::string_view text);
std::optional<CheckOutcome> check_outcome_from_string(std::string_view text);

// The result as a person reads it: "no check finished yet", "ok",
// "timeout", "connection refused", "connection reset", "status 500",
// "bad response", "error"; bad_response and other append their detail
// ("bad response: no status line").
std::string describe(const CheckResult& result);

// What active checks say of one server (HealthTracker::status()): never
// `ejected`.
struct CheckStatus {
    HealthState state = HealthState::unknown;
    CheckResult last;
    std::string reason;  // "no check finished yet", "status 500", "ok (1 of 2 to rise)"
    bool operator==(const CheckStatus&) const = default;
};

// A server of a pool without active checks counts healthy (DESIGN.md config:
// "absent: no active checks, servers count healthy").
CheckStatus unchecked_status();

// What passive outlier detection says of one server (OutlierPolicy::status()).
struct PassiveStatus {
    bool ejected = false;
    HealthTime until{};           // ejected: when it returns
    std::uint32_t ejections = 0;  // times ejected so far (also while back in service)
    std::string reason;           // ejected: "5 consecutive failures, last: status 503"
    bool operator==(const PassiveStatus&) const = default;
};

struct ServerHealth {
    HealthState state = HealthState::unknown;
    HealthTime ejected_until{};   // state == ejected: when it returns
    std::uint32_t ejections = 0;  // times ejected so far
    CheckResult last_check;       // the last active check (none without checks)
    std::string reason;           // why `state`: the ejection's reason, else the checks'
    bool operator==(const ServerHealth&) const = default;
};

// One server's health from both deciders: an ejection in force wins (an
// ejected server is out whatever its checks say), else the active checks'
// state and reason. The last check result is kept either way.
ServerHealth combine_health(const CheckStatus& checks, const PassiveStatus& passive);

class HealthView {
  public:
    using Servers = std::map<std::string, ServerHealth, std::less<>>;  // by address
    using Pools = std::map<std::string, Servers, std::less<>>;         // by pool name

    // `version` increments with every view published, so a worker can cache
    // what it derived from one (see usable_mask).
    explicit HealthView(std::uint64_t version = 0) : version_(version) {}

    std::uint64_t version() const { return version_; }

    // Builds the view before it is published (it is const afterwards).
    void set(std::string_view pool, std::string_view address, ServerHealth health);

    // nullptr when the view has no entry (a server added by a reload before
    // its first publication): callers treat that as unknown.
    const ServerHealth* find(std::string_view pool, std::string_view address) const;

    // May the router send new requests to this server? Unknown (also a
    // missing entry) and healthy: yes; unhealthy and ejected: no.
    bool usable(std::string_view pool, std::string_view address) const;
    // The same, except that an ejection whose end is due (now >= until)
    // already counts usable: a worker holding a view that the control thread
    // has not replaced yet does not keep a returned server out.
    bool usable(std::string_view pool, std::string_view address, HealthTime now) const;

    // usable(pool, address, now) for every server of `routing`, indexed like
    // routing.pools[p].servers[s], so a worker can look names up once per
    // (routing snapshot, health version) instead of once per request.
    std::vector<std::vector<bool>> usable_mask(const RoutingState& routing, HealthTime now) const;

    const Pools& pools() const { return pools_; }

  private:
    std::uint64_t version_;
    Pools pools_;
};

// One server's health as a hot upgrade hands it to the successor ("An
// upgrade hands the current view to the new process"): the view's entry plus
// what the deciders need to carry on where the old process stopped, so the
// cutover gates do not fall back to unknown and an ejected server does not
// take traffic again. Times are the holder's steady_clock; the hand-over
// sends them as durations relative to the moment it is encoded.
struct HealthHandover {
    std::string pool{};
    std::string address{};
    ServerHealth health{};  // as the view has it (state, last check, reason, ejections)
    // Active checks; `checked` false: the pool had none.
    bool checked = false;
    // The successor keeps the verdict only under the same settings (a reload
    // that changes them starts the servers unknown, too).
    HealthCheckSettings check_settings{};
    HealthState check_state = HealthState::unknown;  // the tracker's own: never ejected
    std::uint32_t successes = 0;                     // the current streaks (rise, fall)
    std::uint32_t failures = 0;
    // Passive outlier detection: the back-off level of the last ejection and
    // when that ejection ended (decay); the rest is in `health`.
    std::uint32_t ejection_level = 0;
    HealthTime returned{};  // {}: none ended yet
    bool operator==(const HealthHandover&) const = default;
};

// Marks the servers of `routing` that `view` says may not take requests at
// `now` (ServerState::healthy), so the router and the drain bookkeeping see
// health like any other reason a server takes no traffic.
void apply_health(RoutingState& routing, const HealthView& view, HealthTime now);

}  // namespace switchyard
