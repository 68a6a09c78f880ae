// Response comparison counts per route (DESIGN.md "Dark launch", `diff`),
// and the noise rule that reads them. Pure: standard library only.
//
// Each worker records into its own DiffTable (sampled traffic, off the hot
// path); the control thread adds the workers' copies up with merge() and
// reports the sum. Memory is bounded: at most max_routes routes (further
// routes count under the route "other") and max_fields field names per
// route (further names count under the field "other"). Routes from
// diff_route start with '/' and field names are "status", "header:...",
// "$..." or "body", so "other" never collides with a real one.
//
// Noise (Diffy's method): for a field, the candidate (shadow vs primary)
// differs in dc of nc compared pairs, rate rc = dc/nc, and the secondary
// (another server of the active pool vs primary) in ds of ns, rate rs =
// ds/ns. The field is noise iff rs > 0 and (rc - rs <= relative x rs or
// rc - rs <= absolute): unless the candidate's excess over the noise rate
// exceeds both thresholds (defaults 20 % of rs and 3 percentage points), the
// good build's own variance explains it. With no secondary samples (ns = 0)
// or no secondary difference on the field (ds = 0) nothing is noise; with
// no candidate pairs (nc = 0, rc = 0) a field with rs > 0 is. Computed
// exactly, in integers, so the borders (<=) hold.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard {

// The route and field name that collect what is over the caps.
inline constexpr std::string_view kDiffOther = "other";
inline constexpr std::size_t kDefaultDiffMaxFields = 64;

struct DiffFieldCounts {
    std::uint64_t candidate = 0;  // candidate pairs that differ on the field
    std::uint64_t secondary = 0;  // secondary pairs that differ on the field
    bool operator==(const DiffFieldCounts&) const = default;
};

struct DiffRouteCounts {
    std::uint64_t compared = 0;            // candidate pairs compared
    std::uint64_t equal = 0;               // of which no field differed
    std::uint64_t skipped = 0;             // pairs not compared (over max_body)
    std::uint64_t secondary_compared = 0;  // primary-vs-secondary pairs compared
    std::map<std::string, DiffFieldCounts, std::less<>> fields;
    bool operator==(const DiffRouteCounts&) const = default;
};

class DiffTable {
  public:
    explicit DiffTable(std::uint32_t max_routes = 100,
                       std::size_t max_fields = kDefaultDiffMaxFields);

    // One compared candidate pair and the fields it differs on (none:
    // equal). A field named twice counts once.
    void record_candidate(std::string_view route, std::span<const std::string> fields);
    // One compared primary-vs-secondary pair and the fields it differs on.
    void record_secondary(std::string_view route, std::span<const std::string> fields);
    // One candidate pair that could not be compared.
    void record_skipped(std::string_view route);

    // Adds `other`'s counts; this table's caps apply.
    void merge(const DiffTable& other);
    // Forgets every count; the caps stay.
    void reset() { routes_.clear(); }

    const std::map<std::string, DiffRouteCounts, std::less<>>& routes() const { return routes_; }
    std::uint32_t max_routes() const { return max_routes_; }
    std::size_t max_fields() const { return max_fields_; }

  private:
    DiffRouteCounts& route(std::string_view name);
    DiffFieldCounts& field(DiffRouteCounts& route, std::string_view name);
    // Adds one to `member` of each field named (once per name, once for
    // "other" however many names went there).
    void count_fields(DiffRouteCounts& route, std::span<const std::string> fields,
                      std::uint64_t DiffFieldCounts::*member);

    std::uint32_t max_routes_;
    std::size_t max_fields_;
    std::map<std::string, DiffRouteCounts, std::less<>> routes_;
};

// The thresholds of the noise rule, in basis points (1/100 of a percent)
// so that borderline cases are exact.
struct NoiseThresholds {
    std::uint32_t relative_bp = 2000;  // 20 % of the secondary's rate
    std::uint32_t absolute_bp = 300;   // 3 percentage points
};

// The noise rule above for one field: dc of nc candidate pairs differ, ds
// of ns secondary pairs.
bool is_noise(std::uint64_t dc, std::uint64_t nc, std::uint64_t ds, std::uint64_t ns,
              const NoiseThresholds& thresholds = {});

struct DiffFieldReport {
    std::string field;
    std::uint64_t differing = 0;        // candidate pairs that differ on it
    std::uint64_t noise_differing = 0;  // secondary pairs that differ on it
    double rate = 0;                    // differing / compared (0 when none compared)
    double noise_rate = 0;              // noise_differing / secondary_compared
    bool noise = false;
    bool operator==(const DiffFieldReport&) const = default;
};

struct DiffRouteReport {
    std::string route;
    std::uint64_t compared = 0;
    std::uint64_t equal = 0;
    std::uint64_t skipped = 0;
    std::uint64_t secondary_compared = 0;
    std::vector<DiffFieldReport> fields;  // by name
    // The verdict: fields the candidate differs on that are not noise.
    std::size_t differing_fields = 0;
    bool operator==(const DiffRouteReport&) const = default;
};

// Every route, by name ("other" in its sorted place), with the noise rule
// applied to each field.
std::vector<DiffRouteReport> diff_report(const DiffTable& table,
                                         const NoiseThresholds& thresholds = {});

}  // namespace switchyard
