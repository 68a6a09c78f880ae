#include "switchyard/proxy/diff_pair.hpp"

#include "switchyard/core/json_writer.hpp"
#include "switchyard/proxy/worker.hpp"

namespace switchyard::proxy {

namespace {

// Logged bodies are cut here (log_bodies): enough to see a difference.
constexpr std::size_t kLoggedBody = 4096;

void write_side(JsonWriter& w, std::string_view name, const CapturedResponse& r, bool bodies) {
    w.key(name).begin_object().key("status").number(r.status);
    if (bodies) {
        w.key("body").string(std::string_view(r.body).substr(0, kLoggedBody));
        w.key("body_truncated").boolean(r.truncated || r.body.size() > kLoggedBody);
    }
    w.end_object();
}

}  // namespace

DiffPair::DiffPair(Worker& worker, std::shared_ptr<const Settings> settings, std::string route,
                   std::string_view method, std::string_view target, std::string_view request_id)
    : worker_(worker),
      settings_(std::move(settings)),
      route_(std::move(route)),
      method_(method),
      target_(target),
      request_id_(request_id) {}

void DiffPair::head(Side side, const http::ResponseHeadParser& head) {
    Capture& c = at(side);
    c.response.status = head.status();
    c.response.headers.clear();
    for (const auto& f : head.fields())
        c.response.headers.emplace_back(f.name, f.value);
}

void DiffPair::body(Side side, std::span<const std::string_view> payload) {
    Capture& c = at(side);
    if (c.response.truncated) return;
    const std::uint64_t limit = settings_->shadow.diff.max_body;
    for (auto piece : payload) {
        const std::size_t room = static_cast<std::size_t>(limit - c.response.body.size());
        if (piece.size() > room) {
            c.response.body.append(piece.substr(0, room));
            c.response.truncated = true;
            return;
        }
        c.response.body.append(piece);
    }
}

void DiffPair::end(Side side) {
    at(side).whole = !at(side).failed;
}

void DiffPair::fail(Side side) {
    at(side).failed = true;
    at(side).whole = false;
}

DiffPair::~DiffPair() {
    const Capture& primary = at(Side::primary);
    if (!primary.whole) return;  // nothing to compare against
    const ShadowDiffSettings& config = settings_->shadow.diff;
    DiffTable& table = worker_.diff_table();
    if (const Capture& candidate = at(Side::candidate); candidate.whole) {
        const ComparisonResult r = compare_responses(primary.response, candidate.response, config);
        if (!r.comparable) {
            table.record_skipped(route_);
        } else {
            table.record_candidate(route_, r.fields);
            if (!r.fields.empty()) log_difference(r);
        }
    }
    if (const Capture& secondary = at(Side::secondary); secondary.whole) {
        const ComparisonResult r = compare_responses(primary.response, secondary.response, config);
        if (r.comparable) table.record_secondary(route_, r.fields);
    }
}

// One JSON line per differing pair, within log_per_minute (all workers).
void DiffPair::log_difference(const ComparisonResult& result) {
    if (!worker_.take_diff_log_slot()) return;
    const ShadowDiffSettings& config = settings_->shadow.diff;
    std::string line;
    JsonWriter w(line);
    w.begin_object();
    w.key("time").string(worker_.log_time());
    w.key("route").string(route_);
    w.key("method").string(method_);
    w.key("target").string(target_);
    w.key("request_id").string(request_id_);
    w.key("fields").begin_array();
    for (const auto& f : result.fields)
        w.string(f);
    w.end_array();
    write_side(w, "primary", at(Side::primary).response, config.log_bodies);
    write_side(w, "candidate", at(Side::candidate).response, config.log_bodies);
    w.end_object();
    worker_.log_diff(line);
}

}  // namespace switchyard::proxy
