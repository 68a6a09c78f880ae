// DiffPair: the answers one mirrored request got, collected while they
// stream to their readers (DESIGN.md "Dark launch", `diff`): the
// primary's (what the client gets), the candidate's (the shadow pool) and,
// with shadow.diff.secondary, the secondary's (another server of the
// primary's pool, for noise). The primary's answer is copied as it is
// relayed, never held back.
//
// Whoever captures a side holds the pair; when the last lets go, the sides
// that arrived whole are compared (compare_responses), counted in the
// worker's DiffTable under the request's route, and a differing candidate
// is logged (sampled, shadow.diff.log_per_minute). A side that failed is
// not compared: the shadow's failures are counted as shadow results.
#pragma once

#include <array>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "switchyard/core/settings.hpp"
#include "switchyard/http/head_parser.hpp"
#include "switchyard/proxy/response_comparison.hpp"

namespace switchyard::proxy {

class Worker;

class DiffPair {
  public:
    enum class Side { primary = 0, candidate = 1, secondary = 2 };

    DiffPair(Worker& worker, std::shared_ptr<const Settings> settings, std::string route,
             std::string_view method, std::string_view target, std::string_view request_id);
    ~DiffPair();
    DiffPair(const DiffPair&) = delete;
    DiffPair& operator=(const DiffPair&) = delete;

    // A side's final response head, then its body bytes (payload, no
    // framing), then its end; fail() when no whole answer came.
    void head(Side side, const http::ResponseHeadParser& head);
    void body(Side side, std::span<const std::string_view> payload);
    void end(Side side);
    void fail(Side side);

  private:
    struct Capture {
        CapturedResponse response;
        bool whole = false;
        bool failed = false;
    };
    Capture& at(Side side) { return sides_[static_cast<std::size_t>(side)]; }
    void log_difference(const ComparisonResult& result);

    Worker& worker_;
    std::shared_ptr<const Settings> settings_;
    std::string route_;
    std::string method_;
    std::string target_;
    std::string request_id_;
    std::array<Capture, 3> sides_;
};

}  // namespace switchyard::proxy
