#include "not_built.hpp"

#include <array>
#include <cstdint>
#include <limits>
#include <span>
#include <string>

namespace switchyard::config::detail {
namespace {

enum class Type {
    string,           // a non-empty string
    optional_string,  // a string, possibly empty ("" = off / default)
    choice,           // one of `values`
    boolean,
    count,    // an integer ≥ 0
    percent,  // a number from 0 to 100
    duration,
    size,
    strings,  // an array of non-empty strings
    choices,  // an array of `values`
    table,    // a section: its keys are described by the entry at its path
    tables,   // an array of such sections ([[name]])
};

struct Key {
    std::string_view name;
    Type type;
    std::string_view values = {};  // choice, choices: "auto|manual"
};

// One not-built section or key. A section's keys are checked against
// `keys`; nested sections have their own entry (found by path) and share
// the warning of the outermost one.
struct NotBuilt {
    std::string_view path;     // a pattern for path_matches
    std::string_view feature;  // "... is not built yet"
    Type type;
    std::span<const Key> keys = {};  // table, tables
    std::string_view values = {};    // choice, choices
};

// [listeners.http2]: HTTP/2 on a listener.
constexpr Key kListenerHttp2[] = {
    {"max_concurrent_streams", Type::count},
    {"initial_window", Type::size},
    {"max_header_list", Type::size},
};

// THE list of accepted-but-not-built keys. When a feature lands, delete its
// entries (and the tests that expect their warnings) and read the keys in
// config_loader.cpp.
constexpr NotBuilt kNotBuilt[] = {
    {"listeners[*].protocols", "HTTP/2 on listeners", Type::choices, {}, "h2|http/1.1|h2c"},
    {"listeners[*].http2", "HTTP/2 on listeners", Type::table, kListenerHttp2},
};

const NotBuilt* find_entry(std::string_view path) {
    for (const auto& entry : kNotBuilt)
        if (path_matches(entry.path, path)) return &entry;
    return nullptr;
}

std::vector<std::string_view> split_values(std::string_view values) {
    std::vector<std::string_view> out;
    while (!values.empty()) {
        const auto bar = values.find('|');
        out.push_back(values.substr(0, bar));
        values = bar == std::string_view::npos ? std::string_view{} : values.substr(bar + 1);
    }
    return out;
}

void check_choice(Sink& sink, const toml::node& node, const std::string& path,
                  std::string_view values) {
    const auto text = read_string(sink, node, path, true);
    if (!text) return;
    const auto all = split_values(values);
    for (auto v : all)
        if (v == *text) return;
    std::string message = "invalid value " + quote(*text) + " (" + expected_one_of(all) + ")";
    if (auto hint = closest(*text, all); !hint.empty())
        message += "; did you mean " + quote(hint) + "?";
    sink.error(node.source(), path, std::move(message));
}

void check_section(Sink& sink, const toml::node& node, const std::string& path,
                   std::span<const Key> keys);

void check_value(Sink& sink, const toml::node& node, const std::string& path, Type type,
                 std::string_view values) {
    constexpr auto kMaxInt = std::numeric_limits<std::int64_t>::max();
    switch (type) {
        case Type::string:
        case Type::optional_string:
            read_string(sink, node, path, type == Type::optional_string);
            return;
        case Type::choice:
            return check_choice(sink, node, path, values);
        case Type::boolean:
            read_bool(sink, node, path);
            return;
        case Type::count:
            read_integer(sink, node, path, 0, kMaxInt);
            return;
        case Type::percent:
            read_number(sink, node, path, 0, 100);
            return;
        case Type::duration:
            read_duration(sink, node, path, Duration{0});
            return;
        case Type::size:
            read_size(sink, node, path, 0, std::numeric_limits<std::uint64_t>::max());
            return;
        case Type::strings:
        case Type::choices:
        case Type::tables: {
            const auto* array = read_array(sink, node, path);
            if (array == nullptr) return;
            const Type item = type == Type::strings   ? Type::string
                              : type == Type::choices ? Type::choice
                                                      : Type::table;
            for (std::size_t i = 0; i < array->size(); ++i) {
                const std::string at = index_path(path, i);
                if (item == Type::table) {
                    // The entry describes the array's elements.
                    if (const NotBuilt* entry = find_entry(path))
                        check_section(sink, (*array)[i], at, entry->keys);
                } else {
                    check_value(sink, (*array)[i], at, item, values);
                }
            }
            return;
        }
        case Type::table:
            if (const NotBuilt* entry = find_entry(path))
                check_section(sink, node, path, entry->keys);
            return;
    }
}

void check_section(Sink& sink, const toml::node& node, const std::string& path,
                   std::span<const Key> keys) {
    const auto* table = read_table(sink, node, path);
    if (table == nullptr) return;
    std::vector<std::string_view> names;
    for (const auto& k : keys)
        names.push_back(k.name);
    TableReader reader(sink, *table, path, names);  // reports unknown keys
    for (const auto& k : keys)
        if (const auto* child = reader.find(k.name))
            check_value(sink, *child, reader.path_of(k.name), k.type, k.values);
}

void walk(Sink& sink, const toml::node& node, const std::string& path);

void visit_key(Sink& sink, const toml::key& key, const toml::node& node, const std::string& path) {
    if (const NotBuilt* entry = find_entry(path)) {
        check_value(sink, node, path, entry->type, entry->values);
        if (!sink.has_error_under(path))
            sink.warning(key.source(), path,
                         "accepted, but " + std::string(entry->feature) + " is not built yet");
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

bool is_not_built(std::string_view path) {
    return find_entry(path) != nullptr;
}

std::vector<std::string_view> not_built_keys_of(std::string_view table_path) {
    std::vector<std::string_view> out;
    for (const auto& entry : kNotBuilt) {
        const auto dot = entry.path.rfind('.');
        const std::string_view parent =
            dot == std::string_view::npos ? std::string_view{} : entry.path.substr(0, dot);
        if (path_matches(parent, table_path))
            out.push_back(dot == std::string_view::npos ? entry.path : entry.path.substr(dot + 1));
    }
    return out;
}

void warn_not_built(Sink& sink, const toml::table& root) {
    walk(sink, root, "");
}

}  // namespace switchyard::config::detail
