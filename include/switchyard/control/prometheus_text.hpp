// PrometheusText: writes the Prometheus text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/).
//
// A family starts with its # HELP and # TYPE lines, and its samples follow
// before the next family starts, as the format requires. Label values and
// help texts are escaped; numbers are written exactly (integers as
// integers, doubles in their shortest round-trip form, +Inf, NaN).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "switchyard/core/latency_buckets.hpp"

namespace switchyard::control {

using Label = std::pair<std::string_view, std::string_view>;

class PrometheusText {
  public:
    enum class Type { counter, gauge, histogram };

    // Starts the family `name`. Counters' samples are written with the
    // `_total` suffix, which `name` must not carry.
    void family(std::string_view name, Type type, std::string_view help);

    // A sample of the current family (suffix "" for gauges, "_total" is
    // added for counters).
    void sample(std::initializer_list<Label> labels, std::uint64_t value);
    void sample(std::initializer_list<Label> labels, std::int64_t value);
    void sample(std::initializer_list<Label> labels, double value);

    // The current family's histogram series for one label set: _bucket
    // (cumulative, `le` in seconds, +Inf last), _sum (seconds), _count.
    void histogram(std::initializer_list<Label> labels, const LatencyBuckets& h);

    const std::string& text() const { return out_; }
    std::string take() { return std::move(out_); }

  private:
    void begin_sample(std::string_view suffix, std::initializer_list<Label> labels,
                      const Label* extra = nullptr);

    std::string out_;
    std::string name_;
    Type type_ = Type::gauge;
};

// `v` as Prometheus writes a float: shortest round trip, "+Inf", "-Inf", "NaN".
std::string format_prometheus_double(double v);

}  // namespace switchyard::control
