// A strict reader of the Prometheus text exposition format 0.0.4, for the
// metrics tests: it checks the grammar and the rules a scraper relies on,
// and returns the samples so tests can compare exact values.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace sy_it {

struct ExpositionSample {
    std::string name;                           // with _total, _bucket, ... as written
    std::map<std::string, std::string> labels;  // unescaped values
    double value = 0;
};

struct Exposition {
    std::vector<ExpositionSample> samples;
    std::map<std::string, std::string> types;  // family -> counter, gauge, histogram, ...
    std::vector<std::string> errors;           // empty: valid

    // The value of the one sample `name` with exactly `labels`; NaN if none.
    double value(const std::string& name,
                 const std::map<std::string, std::string>& labels = {}) const;
    // The sum over samples `name` whose labels include `match`.
    double sum(const std::string& name, const std::map<std::string, std::string>& match = {}) const;
};

// Checks: line grammar (names, label names, escapes, float values), # TYPE
// at most once per family and before its samples, a family's samples
// together, no duplicate series, counters not negative, and per histogram
// series: le ascending, cumulative counts never decreasing, a +Inf bucket
// equal to _count, and a _sum.
Exposition parse_exposition(const std::string& text);

}  // namespace sy_it
