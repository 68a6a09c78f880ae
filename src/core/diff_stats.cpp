#include "switchyard/core/diff_stats.hpp"

#include <algorithm>

namespace switchyard {
namespace {

// Exact products: counts stay far below 2^56 in any process's life, so
// 10000 x count x count fits.
__extension__ typedef unsigned __int128 Wide;

constexpr std::uint64_t kBasis = 10000;  // basis points in one

double rate(std::uint64_t part, std::uint64_t whole) {
    return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}

// Named entries (not "other") in a map keyed by name.
template <typename Map>
std::size_t named_size(const Map& map) {
    return map.size() - map.count(kDiffOther);
}

}  // namespace

DiffTable::DiffTable(std::uint32_t max_routes, std::size_t max_fields)
    : max_routes_(max_routes), max_fields_(max_fields) {}

DiffRouteCounts& DiffTable::route(std::string_view name) {
    if (auto it = routes_.find(name); it != routes_.end()) return it->second;
    if (name != kDiffOther && named_size(routes_) >= max_routes_) name = kDiffOther;
    return routes_.try_emplace(std::string(name)).first->second;
}

DiffFieldCounts& DiffTable::field(DiffRouteCounts& route, std::string_view name) {
    auto& fields = route.fields;
    if (auto it = fields.find(name); it != fields.end()) return it->second;
    if (name != kDiffOther && named_size(fields) >= max_fields_) name = kDiffOther;
    return fields.try_emplace(std::string(name)).first->second;
}

void DiffTable::count_fields(DiffRouteCounts& route, std::span<const std::string> fields,
                             std::uint64_t DiffFieldCounts::*member) {
    // Distinct counters: a repeated name, or several names over the cap,
    // count once for the pair.
    std::vector<DiffFieldCounts*> counters;
    counters.reserve(fields.size());
    for (const std::string& name : fields)
        counters.push_back(&field(route, name));
    std::sort(counters.begin(), counters.end());
    counters.erase(std::unique(counters.begin(), counters.end()), counters.end());
    for (DiffFieldCounts* c : counters)
        ++(c->*member);
}

void DiffTable::record_candidate(std::string_view route_name, std::span<const std::string> fields) {
    DiffRouteCounts& r = route(route_name);
    ++r.compared;
    if (fields.empty()) ++r.equal;
    count_fields(r, fields, &DiffFieldCounts::candidate);
}

void DiffTable::record_secondary(std::string_view route_name, std::span<const std::string> fields) {
    DiffRouteCounts& r = route(route_name);
    ++r.secondary_compared;
    count_fields(r, fields, &DiffFieldCounts::secondary);
}

void DiffTable::record_skipped(std::string_view route_name) {
    ++route(route_name).skipped;
}

void DiffTable::merge(const DiffTable& other) {
    for (const auto& [name, counts] : other.routes_) {
        DiffRouteCounts& r = route(name);
        r.compared += counts.compared;
        r.equal += counts.equal;
        r.skipped += counts.skipped;
        r.secondary_compared += counts.secondary_compared;
        // Fields that land in "other" here add up, so "other" may count a
        // pair more than once: it is an upper bound, as any overflow is.
        for (const auto& [field_name, c] : counts.fields) {
            DiffFieldCounts& f = field(r, field_name);
            f.candidate += c.candidate;
            f.secondary += c.secondary;
        }
    }
}

bool is_noise(std::uint64_t dc, std::uint64_t nc, std::uint64_t ds, std::uint64_t ns,
              const NoiseThresholds& thresholds) {
    if (ns == 0 || ds == 0) return false;  // no noise measured on the field
    if (nc == 0) return true;              // rc = 0 <= rs
    // rc - rs <= relative x rs  <=>  dc/nc <= (1 + relative) ds/ns
    const Wide lhs = Wide{kBasis} * dc * ns;
    if (lhs <= Wide{kBasis + thresholds.relative_bp} * ds * nc) return true;
    // rc - rs <= absolute  <=>  dc/nc <= absolute + ds/ns
    return lhs <= Wide{thresholds.absolute_bp} * nc * ns + Wide{kBasis} * ds * nc;
}

std::vector<DiffRouteReport> diff_report(const DiffTable& table,
                                         const NoiseThresholds& thresholds) {
    std::vector<DiffRouteReport> report;
    report.reserve(table.routes().size());
    for (const auto& [name, counts] : table.routes()) {
        DiffRouteReport& r = report.emplace_back();
        r.route = name;
        r.compared = counts.compared;
        r.equal = counts.equal;
        r.skipped = counts.skipped;
        r.secondary_compared = counts.secondary_compared;
        r.fields.reserve(counts.fields.size());
        for (const auto& [field_name, c] : counts.fields) {
            DiffFieldReport& f = r.fields.emplace_back();
            f.field = field_name;
            f.differing = c.candidate;
            f.noise_differing = c.secondary;
            f.rate = rate(c.candidate, counts.compared);
            f.noise_rate = rate(c.secondary, counts.secondary_compared);
            f.noise = is_noise(c.candidate, counts.compared, c.secondary, counts.secondary_compared,
                               thresholds);
            if (c.candidate > 0 && !f.noise) ++r.differing_fields;
        }
    }
    return report;
}

}  // namespace switchyard
