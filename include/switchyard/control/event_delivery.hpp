// EventDelivery: the ramp's events to [[rollout.webhooks]] and its
// questions to gate_url (DESIGN.md, "Progressive delivery: `ramp`",
// Events), on the control thread's io_context. Nothing here blocks: every
// POST (http/post_client.hpp) and every backoff is asynchronous.
//
// Webhooks: for each webhook whose `events` include the event's type, one
// POST of ramp_event_json() (format json) or ramp_event_slack() (format
// slack) with Content-Type: application/json, X-Switchyard-Event: <type>
// and, with a secret, X-Switchyard-Signature: sha256=<hex HMAC-SHA256 of the
// body>. Up to kWebhookTries tries, the n-th retry after backoff × 2^(n-1)
// (1 s, then 2 s); a 2xx ends it. Failures are logged (warn) naming the
// URL's host only (its path may be a secret) and counted like
// switchyard_webhook_deliveries_total{result}: ok, failed (after the last
// try) and retried (each retry).
//
// A delivery keeps the settings it started with: configure() (a reload)
// changes only later deliveries. Destroying the EventDelivery leaves the
// POSTs and backoffs in flight to end on their own: they hold what they
// need (the io_context, the logger, the counters), never this object.
//
// Control thread only (deliver, ask_gate, configure); counts() may be read
// from any thread.
#pragma once

#include <spdlog/logger.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/core/ramp.hpp"
#include "switchyard/core/rollout_settings.hpp"

namespace switchyard::control {

inline constexpr int kWebhookTries = 3;

struct WebhookCounts {
    std::uint64_t ok = 0;       // delivered (a 2xx)
    std::uint64_t failed = 0;   // given up after the last try
    std::uint64_t retried = 0;  // tries after the first
    bool operator==(const WebhookCounts&) const = default;
};

// Lower-case hex HMAC-SHA256 of `data` with `key` (64 characters).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);
// The X-Switchyard-Signature value: "sha256=" + hmac_sha256_hex(secret, body).
std::string webhook_signature(std::string_view secret, std::string_view body);

// A gate's answer as the ramp's reason: a 2xx allows ("gate answered 200");
// any other status refuses with "gate answered 409: <the body's excerpt,
// controls as spaces, trimmed>" (just "gate answered 409" without a body);
// no status refuses with "gate unreachable: <error>".
GateAnswer gate_answer(int status, std::string_view body_excerpt, std::string_view error);

class EventDelivery {
  public:
    // `backoff`: the wait before the first retry (doubled for each further
    // one); tests make it short.
    EventDelivery(boost::asio::io_context& io, std::shared_ptr<spdlog::logger> log,
                  std::chrono::milliseconds backoff = std::chrono::seconds(1));
    EventDelivery(const EventDelivery&) = delete;
    EventDelivery& operator=(const EventDelivery&) = delete;
    ~EventDelivery();

    // The webhooks of later deliveries.
    void configure(const RolloutSettings& settings);

    // Starts the event's deliveries to its webhooks; returns at once.
    void deliver(const RampEvent& event, RampTime time, std::uint64_t generation);

    // POSTs ramp_event_json() to `url` once; `done` gets gate_answer() of
    // the result exactly once, from a handler on io (never inside
    // ask_gate()).
    void ask_gate(const std::string& url, const RampEvent& event, RampTime time,
                  std::uint64_t generation, std::chrono::milliseconds timeout,
                  std::function<void(GateAnswer)> done);

    WebhookCounts counts() const;

    struct Shared;  // what deliveries in flight hold (the io, the log, counters)

  private:
    std::shared_ptr<Shared> shared_;
    std::vector<WebhookSettings> webhooks_;
};

}  // namespace switchyard::control
