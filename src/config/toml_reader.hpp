// Typed, diagnosing access to a toml++ tree (private to src/config).
//
// Every reader reports problems into a Sink instead of stopping, so that one
// --check run lists all errors of a file.
#pragma once

#include <toml++/toml.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "switchyard/config/config_loader.hpp"
#include "switchyard/core/settings.hpp"

namespace switchyard::config::detail {

class Sink {
  public:
    explicit Sink(std::string file) : file_(std::move(file)) {}

    void error(const toml::source_region& where, std::string key_path, std::string message);
    void warning(const toml::source_region& where, std::string key_path, std::string message);
    // For problems without a single place, such as a missing section.
    void error_unplaced(std::string key_path, std::string message);

    bool has_errors() const;
    // True when an error was reported at `key_path` or below it.
    bool has_error_under(std::string_view key_path) const;
    // Diagnostics ordered by position (stable), unplaced ones last.
    std::vector<Diagnostic> take();

  private:
    void add(Diagnostic::Severity, const toml::source_region*, std::string key_path,
             std::string message);

    std::string file_;
    std::vector<Diagnostic> diagnostics_;
};

// "a.b" + "c" -> "a.b.c"; keys that are not bare TOML keys are quoted.
std::string join_path(std::string_view parent, std::string_view key);
// "a.b" + 3 -> "a.b[3]".
std::string index_path(std::string_view parent, std::size_t index);

// Levenshtein distance, for "did you mean" hints.
std::size_t edit_distance(std::string_view a, std::string_view b);
// The closest candidate within edit distance 2 (and closer than the word's
// own length, so that "ab" does not suggest "cd"), else one that is a prefix
// of the word or has it as prefix ("warning" -> "warn"); empty when none.
std::string_view closest(std::string_view word, std::initializer_list<std::string_view> candidates);
std::string_view closest(std::string_view word, const std::vector<std::string_view>& candidates);

// "a string", "an integer", ... for type errors.
std::string_view describe(toml::node_type type);
std::string quote(std::string_view s);

// The smallest values readers accept, and the largest size.
inline constexpr std::uint64_t kGiB = 1ULL << 30;
inline constexpr Duration kMs{1};
inline constexpr Duration kSecond{1000};

// An address and the key it was read at: listeners and a pool's servers
// must not repeat one, and the error names where it was first given.
struct PlacedEndpoint {
    Endpoint endpoint;
    std::string path;
};

// Node readers: nullopt (and one diagnostic) when the value is unusable.
std::optional<std::string> read_string(Sink&, const toml::node&, const std::string& path,
                                       bool allow_empty = false);
std::optional<std::int64_t> read_integer(Sink&, const toml::node&, const std::string& path,
                                         std::int64_t min, std::int64_t max);
std::optional<bool> read_bool(Sink&, const toml::node&, const std::string& path);
// An integer or a float.
std::optional<double> read_number(Sink&, const toml::node&, const std::string& path, double min,
                                  double max);
std::optional<Duration> read_duration(Sink&, const toml::node&, const std::string& path,
                                      Duration min);
// A size string, or an integer number of bytes.
std::optional<std::uint64_t> read_size(Sink&, const toml::node&, const std::string& path,
                                       std::uint64_t min, std::uint64_t max);
std::optional<Endpoint> read_endpoint(Sink&, const toml::node&, const std::string& path);
std::optional<Cidr> read_cidr(Sink&, const toml::node&, const std::string& path);
const toml::table* read_table(Sink&, const toml::node&, const std::string& path);
const toml::array* read_array(Sink&, const toml::node&, const std::string& path);

template <typename E>
using EnumNames = std::initializer_list<std::pair<std::string_view, E>>;

std::string expected_one_of(const std::vector<std::string_view>& names);

template <typename E>
std::optional<E> read_enum(Sink& sink, const toml::node& node, const std::string& path,
                           EnumNames<E> names) {
    auto text = read_string(sink, node, path, true);
    if (!text) return std::nullopt;
    std::vector<std::string_view> all;
    for (const auto& [name, value] : names) {
        if (name == *text) return value;
        all.push_back(name);
    }
    std::string message = "invalid value " + quote(*text) + " (" + expected_one_of(all) + ")";
    if (auto hint = closest(*text, all); !hint.empty())
        message += "; did you mean " + quote(hint) + "?";
    sink.error(node.source(), path, std::move(message));
    return std::nullopt;
}

// One TOML table read against its schema. The constructor reports every key
// that is not in `known` (at the key, with a hint), so a reader never has to
// remember to check for leftovers.
class TableReader {
  public:
    TableReader(Sink& sink, const toml::table& table, std::string path,
                std::initializer_list<std::string_view> known);
    TableReader(Sink& sink, const toml::table& table, std::string path,
                const std::vector<std::string_view>& known);

    const toml::table& table() const { return table_; }
    const std::string& path() const { return path_; }
    Sink& sink() const { return sink_; }
    std::string path_of(std::string_view key) const { return join_path(path_, key); }
    const toml::node* find(std::string_view key) const;
    // Reports "required key is missing" (at the table) when absent.
    const toml::node* require(std::string_view key) const;

    // Each setter leaves `out` untouched when the key is absent or invalid.
    void get_string(std::string_view key, std::string& out, bool allow_empty = false) const;
    void get_bool(std::string_view key, bool& out) const;
    void get_duration(std::string_view key, Duration& out, Duration min = Duration{0}) const;
    void get_size(std::string_view key, std::uint64_t& out, std::uint64_t min = 0,
                  std::uint64_t max = std::numeric_limits<std::uint64_t>::max()) const;

    template <typename T>
    void get_integer(std::string_view key, T& out, std::int64_t min,
                     std::int64_t max = static_cast<std::int64_t>(
                         std::min<std::uint64_t>(std::numeric_limits<T>::max(),
                                                 std::numeric_limits<std::int64_t>::max()))) const {
        if (const auto* node = find(key))
            if (auto v = read_integer(sink_, *node, path_of(key), min, max))
                out = static_cast<T>(*v);
    }

    template <typename E>
    void get_enum(std::string_view key, E& out, EnumNames<E> names) const {
        if (const auto* node = find(key))
            if (auto v = read_enum(sink_, *node, path_of(key), names)) out = *v;
    }

    const toml::table* get_table(std::string_view key) const;
    const toml::array* get_array(std::string_view key) const;

  private:
    Sink& sink_;
    const toml::table& table_;
    std::string path_;
};

}  // namespace switchyard::config::detail
