#include "not_built.hpp"

#include <array>

#include "switchyard/core/units.hpp"

namespace switchyard::config::detail {
namespace {

// When a key counts as "in use": some keys only matter with a non-default
// value (trusted_proxies = [] changes nothing, so it does not warn).
enum class When { present, is_true, non_empty, non_zero, positive_weight };

struct NotBuilt {
    std::string_view pattern;
    std::string_view feature;
    When when;
};

// THE list of accepted-but-not-built features. Delete a row when its feature
// lands (and the test that expects its warning).
// Empty since the admin listener's metrics and dashboard landed (issue 8);
// ramp, shadow and flag will add their keys here first.
constexpr std::array<NotBuilt, 0> kNotBuilt{};

bool is_non_zero(const toml::node& node) {
    if (const auto* i = node.as_integer()) return i->get() != 0;
    if (const auto* f = node.as_floating_point()) return f->get() != 0.0;
    if (const auto* s = node.as_string()) {
        auto d = parse_duration(s->get());
        return !d || d->count() != 0;
    }
    return true;
}

bool in_use(When when, const toml::node& node) {
    switch (when) {
        case When::present:
            return true;
        case When::is_true:
            return node.value_or(false);
        case When::non_empty: {
            const auto* array = node.as_array();
            return array == nullptr || !array->empty();
        }
        case When::non_zero:
            return is_non_zero(node);
        case When::positive_weight: {
            const auto* table = node.as_table();
            if (table == nullptr) return false;
            const auto* weight = table->get("weight");
            return weight != nullptr && weight->is_number() && weight->value_or(0.0) > 0.0;
        }
    }
    return false;
}

void walk(Sink& sink, const toml::node& node, const std::string& path);

void visit_key(Sink& sink, const toml::key& key, const toml::node& node, const std::string& path) {
    for (const auto& entry : kNotBuilt) {
        if (!path_matches(entry.pattern, path) || !in_use(entry.when, node)) continue;
        if (!sink.has_error_under(path))
            sink.warning(key.source(), path,
                         "accepted, but " + std::string(entry.feature) + " is not built yet");
        return;  // one warning covers everything below the key
    }
    walk(sink, node, path);
}

void walk(Sink& sink, const toml::node& node, const std::string& path) {
    if (const auto* table = node.as_table()) {
        for (auto&& [key, child] : *table)
            visit_key(sink, key, child, join_path(path, key.str()));
    } else if (const auto* array = node.as_array()) {
        for (std::size_t i = 0; i < array->size(); ++i)
            walk(sink, (*array)[i], index_path(path, i));
    }
}

}  // namespace

bool path_matches(std::string_view pattern, std::string_view path) {
    std::size_t p = 0;
    std::size_t s = 0;
    while (p < pattern.size()) {
        if (pattern[p] == '*') {
            // One name or index: stops at the next separator.
            std::size_t start = s;
            while (s < path.size() && path[s] != '.' && path[s] != '[' && path[s] != ']')
                ++s;
            if (s == start) return false;
            ++p;
            continue;
        }
        if (s >= path.size() || pattern[p] != path[s]) return false;
        ++p;
        ++s;
    }
    return s == path.size();
}

void warn_not_built(Sink& sink, const toml::table& root) {
    walk(sink, root, "");
}

}  // namespace switchyard::config::detail
