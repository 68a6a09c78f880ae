// Hot binary upgrade: what the running process passes to its successor over
// a Unix socket pair, and the successor's answer.
//
// Old → new: one JSON line; the descriptors travel with it (SCM_RIGHTS) and
// the JSON names them by their index in that array:
//   {"version":1,"from_pid":123,"listeners":[{"name":"0.0.0.0:8080","fd":0}],
//    "control_fd":1,"runtime":{...state file JSON...},"watchdog_usec":0,
//    "config_generation":3,
//    "health":[{"pool":"blue","address":"10.0.0.1:80","state":"ejected",
//               "reason":"5 consecutive failures, last: status 503",
//               "last_check":{"outcome":"ok","status":200,"detail":""},
//               "ejections":1,"ejected_until_ms":29500,"ejection_level":1,
//               "checks":{"path":"/healthz","host":"","interval_ms":2000,
//                         "timeout_ms":1000,"rise":2,"fall":3,"expect_min":200,
//                         "expect_max":399,"state":"healthy","successes":7,
//                         "failures":0}}]}
// Times in "health" are relative to the moment of encoding, in ms:
// ejected_until_ms is what remains of an ejection, returned_ms_ago how long
// ago the last one ended.
// New → old: {"ready":true,"pid":456} once it serves, or
//            {"ready":false,"error":"..."} before it gives up.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/app/listen_socket.hpp"
#include "switchyard/core/health_view.hpp"
#include "switchyard/core/ramp.hpp"
#include "switchyard/core/runtime_state.hpp"
#include "switchyard/core/traffic_stats.hpp"
#include "switchyard/core/units.hpp"

namespace switchyard::app {

struct HandoverMessage {
    int from_pid = 0;
    std::vector<InheritedSocket> listeners;
    int control_fd = -1;  // the control socket's listening descriptor
    // The routing state the old process runs: the state file holds the same,
    // but this also covers a configuration without a writable state file.
    RuntimeState runtime;
    // The ramp's durable part (inside "runtime", as in the state file), so
    // that a ramp goes on at its step; empty from a sender without one.
    RolloutSnapshot rollout{};
    // The ramp's analysis window as counted so far (DESIGN.md: a hot
    // upgrade hands the windows over, so the step needs no fresh
    // min_requests); its id is the sender's and means nothing here. Empty:
    // none, or a sender that predates it.
    StepWindow step_window{};
    std::uint64_t watchdog_usec = 0;  // the old process's watchdog, 0 = none
    // The old process's config generation (ControlPlane); 0 from a sender
    // that predates it.
    std::uint64_t config_generation = 0;
    // The old process's health knowledge, so the successor's cutover gates
    // and ejections go on from it; empty from a sender that predates it.
    std::vector<HealthHandover> health{};
    // TLS session ticket keys (TicketKeys::export_hex), so that clients
    // resume their sessions on the successor; empty: none sent. Secret: the
    // socket pair is private to the two processes.
    std::string tls_ticket_keys{};
};

// The JSON line (with '\n') and, in `fds`, the descriptors in index order.
// `now` is what the health times are made relative to.
std::string encode_handover(const HandoverMessage& message, std::vector<int>& fds,
                            HealthTime now = std::chrono::steady_clock::now());
// Strict; on error returns nullopt and says why. Descriptors the message does
// not name are not touched (the caller closes them). The health section is
// the exception: an entry this binary cannot read is left out (that server
// starts unknown), since health knowledge is worth less than the upgrade.
// `now` is what the health times are taken relative to.
std::optional<HandoverMessage> decode_handover(std::string_view line, const std::vector<int>& fds,
                                               std::string& error,
                                               HealthTime now = std::chrono::steady_clock::now());

struct HandoverReply {
    bool ready = false;
    int pid = 0;
    std::string error;
};
std::string encode_reply(const HandoverReply& reply);  // with '\n'
std::optional<HandoverReply> decode_reply(std::string_view line);

// Blocking I/O on the socket pair, bounded by `timeout`.
bool send_handover(int fd, const HandoverMessage& message, std::string& error);
std::optional<HandoverMessage> receive_handover(int fd, Duration timeout, std::string& error);
bool send_reply(int fd, const HandoverReply& reply);

}  // namespace switchyard::app
