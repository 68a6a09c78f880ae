// What a fleet member publishes under `<prefix>/members/<member>` (DESIGN.md
// "Fleet"), and what a reader makes of all of them: how many applied a
// generation, and which member's config differs from the fleet's.
//
//   {"member":"lb-1","generation":7,"version":"0.9.0","pid":4242,
//    "config":"9c1d0e5a3b7f2e41","cluster":"synced","updated_ms":1700000000000,
//    "pools":[{"name":"blue","inflight":3,"healthy":2,"servers":2}],
//    "ramp":{"pool":"green","step":1,"step_start_ms":1700000000000,"counts":{"pools":{...}}}}
//
// "ramp" (while a ramp is in progress): what this member counted of the
// ramp's current step (step_window_json.hpp), for the leader's judgement.
//
// Pure: no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/core/traffic_stats.hpp"

namespace switchyard::control {

struct MemberPoolReport {
    std::string name;
    std::int64_t inflight = 0;
    std::uint32_t healthy = 0;  // servers that may take traffic
    std::uint32_t servers = 0;
    bool operator==(const MemberPoolReport&) const = default;
};

// A member's counts of the ramp's step, named by the step (pool, index and
// start) so that the leader adds only counts of the step it judges.
struct MemberRampReport {
    std::string pool;
    std::uint32_t step = 0;  // 0-based, as in the ramp's record
    std::int64_t step_start_ms = 0;
    StepWindow counts;
    bool operator==(const MemberRampReport&) const = default;
};

struct MemberReport {
    std::string member;
    std::uint64_t generation = 0;  // the routing generation it serves
    std::string version;           // the binary's
    std::int64_t pid = 0;
    std::string config;           // config_fingerprint()
    std::string cluster;          // "synced", "degraded", "empty"
    std::int64_t updated_ms = 0;  // when it wrote this (Unix ms, its clock)
    std::vector<MemberPoolReport> pools;
    std::optional<MemberRampReport> ramp;
    bool operator==(const MemberReport&) const = default;
};

std::string to_json(const MemberReport& report);
// Strict on types; unknown keys are ignored (a newer member may say more).
std::optional<MemberReport> parse_member_report(std::string_view text, std::string& error);

struct FleetCount {
    std::size_t applied = 0;          // members at `generation` or later
    std::size_t members = 0;          // live members (keys under their lease)
    std::vector<std::string> behind;  // the others, by name
};
FleetCount count_applied(const std::vector<MemberReport>& members, std::uint64_t generation);

// The config most members run (ties: the smallest fingerprint, so every
// reader picks the same); a member with another one has drifted.
std::string fleet_config(const std::vector<MemberReport>& members);

}  // namespace switchyard::control
