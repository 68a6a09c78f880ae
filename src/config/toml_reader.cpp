#include "toml_reader.hpp"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>

#include "switchyard/core/address.hpp"
#include "switchyard/core/units.hpp"

namespace switchyard::config::detail {
namespace {

bool is_bare_key(std::string_view key) {
    return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
    });
}

std::string format_number(double value) {
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
    return ec == std::errc{} ? std::string(buf, end) : std::to_string(value);
}

void type_error(Sink& sink, const toml::node& node, const std::string& path,
                std::string_view expected) {
    sink.error(node.source(), path,
               "expected " + std::string(expected) + ", got " + std::string(describe(node.type())));
}

}  // namespace

void Sink::add(Diagnostic::Severity severity, const toml::source_region* where,
               std::string key_path, std::string message) {
    Diagnostic d;
    d.severity = severity;
    d.file = file_;
    if (where != nullptr && where->begin) {
        d.line = static_cast<int>(where->begin.line);
        d.column = static_cast<int>(where->begin.column);
    }
    d.key_path = std::move(key_path);
    d.message = std::move(message);
    diagnostics_.push_back(std::move(d));
}

void Sink::error(const toml::source_region& where, std::string key_path, std::string message) {
    add(Diagnostic::Severity::error, &where, std::move(key_path), std::move(message));
}

void Sink::warning(const toml::source_region& where, std::string key_path, std::string message) {
    add(Diagnostic::Severity::warning, &where, std::move(key_path), std::move(message));
}

void Sink::error_unplaced(std::string key_path, std::string message) {
    add(Diagnostic::Severity::error, nullptr, std::move(key_path), std::move(message));
}

bool Sink::has_errors() const {
    return std::any_of(diagnostics_.begin(), diagnostics_.end(), [](const Diagnostic& d) {
        return d.severity == Diagnostic::Severity::error;
    });
}

bool Sink::has_error_under(std::string_view key_path) const {
    return std::any_of(diagnostics_.begin(), diagnostics_.end(), [&](const Diagnostic& d) {
        if (d.severity != Diagnostic::Severity::error) return false;
        std::string_view p = d.key_path;
        if (!p.starts_with(key_path)) return false;
        return p.size() == key_path.size() || p[key_path.size()] == '.' ||
               p[key_path.size()] == '[';
    });
}

std::vector<Diagnostic> Sink::take() {
    auto rank = [](const Diagnostic& d) {
        return std::pair{d.line == 0 ? INT_MAX : d.line, d.column};
    };
    std::stable_sort(diagnostics_.begin(), diagnostics_.end(),
                     [&](const Diagnostic& a, const Diagnostic& b) { return rank(a) < rank(b); });
    return std::move(diagnostics_);
}

std::string quote(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
                    static constexpr char hex[] = "0123456789abcdef";
                    out += "\\x";
                    out += hex[(static_cast<unsigned char>(c) >> 4) & 0xf];
                    out += hex[static_cast<unsigned char>(c) & 0xf];
                } else {
                    out += c;
                }
        }
    }
    return out + "\"";
}

std::string join_path(std::string_view parent, std::string_view key) {
    std::string k = is_bare_key(key) ? std::string(key) : quote(key);
    if (parent.empty()) return k;
    return std::string(parent) + "." + k;
}

std::string index_path(std::string_view parent, std::size_t index) {
    return std::string(parent) + "[" + std::to_string(index) + "]";
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j)
        row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t above = row[j];
            row[j] =
                std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

std::string_view closest(std::string_view word, const std::vector<std::string_view>& candidates) {
    // Score: twice the edit distance (at most 2, and less than the word's
    // length), or 5 when one is a prefix of the other ("warning" -> "warn").
    std::string_view best;
    std::size_t best_score = 6;
    for (auto candidate : candidates) {
        std::size_t score = 6;
        if (auto d = edit_distance(word, candidate); d <= 2 && d < word.size()) {
            score = 2 * d;
        } else if (std::min(word.size(), candidate.size()) >= 3 &&
                   (word.starts_with(candidate) || candidate.starts_with(word))) {
            score = 5;
        }
        if (score < best_score) {
            best = candidate;
            best_score = score;
        }
    }
    return best;
}

std::string_view closest(std::string_view word,
                         std::initializer_list<std::string_view> candidates) {
    return closest(word, std::vector<std::string_view>(candidates));
}

std::string_view describe(toml::node_type type) {
    switch (type) {
        case toml::node_type::table:
            return "a table";
        case toml::node_type::array:
            return "an array";
        case toml::node_type::string:
            return "a string";
        case toml::node_type::integer:
            return "an integer";
        case toml::node_type::floating_point:
            return "a floating-point number";
        case toml::node_type::boolean:
            return "a boolean";
        case toml::node_type::date:
            return "a date";
        case toml::node_type::time:
            return "a time";
        case toml::node_type::date_time:
            return "a date-time";
        case toml::node_type::none:
            break;
    }
    return "nothing";
}

std::string expected_one_of(const std::vector<std::string_view>& names) {
    std::string out = "expected ";
    if (names.size() > 2) out += "one of ";
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
        out += quote(names[i]);
    }
    return out;
}

std::optional<std::string> read_string(Sink& sink, const toml::node& node, const std::string& path,
                                       bool allow_empty) {
    const auto* value = node.as_string();
    if (value == nullptr) {
        type_error(sink, node, path, "a string");
        return std::nullopt;
    }
    if (!allow_empty && value->get().empty()) {
        sink.error(node.source(), path, "must not be empty");
        return std::nullopt;
    }
    return value->get();
}

std::optional<std::int64_t> read_integer(Sink& sink, const toml::node& node,
                                         const std::string& path, std::int64_t min,
                                         std::int64_t max) {
    const auto* value = node.as_integer();
    if (value == nullptr) {
        type_error(sink, node, path, "an integer");
        return std::nullopt;
    }
    const std::int64_t v = value->get();
    if (v < min || v > max) {
        std::string range = max == std::numeric_limits<std::int64_t>::max()
                                ? "at least " + std::to_string(min)
                                : std::to_string(min) + " to " + std::to_string(max);
        sink.error(node.source(), path,
                   std::to_string(v) + " is out of range (expected " + range + ")");
        return std::nullopt;
    }
    return v;
}

std::optional<bool> read_bool(Sink& sink, const toml::node& node, const std::string& path) {
    const auto* value = node.as_boolean();
    if (value == nullptr) {
        type_error(sink, node, path, "a boolean (true or false)");
        return std::nullopt;
    }
    return value->get();
}

std::optional<double> read_number(Sink& sink, const toml::node& node, const std::string& path,
                                  double min, double max) {
    double v = 0;
    if (const auto* i = node.as_integer()) {
        v = static_cast<double>(i->get());
    } else if (const auto* f = node.as_floating_point()) {
        v = f->get();
    } else {
        type_error(sink, node, path, "a number");
        return std::nullopt;
    }
    if (!std::isfinite(v) || v < min || v > max) {
        sink.error(node.source(), path,
                   format_number(v) + " is out of range (expected " + format_number(min) + " to " +
                       format_number(max) + ")");
        return std::nullopt;
    }
    return v;
}

std::optional<Duration> read_duration(Sink& sink, const toml::node& node, const std::string& path,
                                      Duration min) {
    const auto* value = node.as_string();
    if (value == nullptr) {
        type_error(sink, node, path, "a duration string like \"30s\"");
        return std::nullopt;
    }
    auto d = parse_duration(value->get());
    if (!d) {
        sink.error(node.source(), path,
                   "invalid duration " + quote(value->get()) +
                       " (expected an integer with a unit ms, s, m, h or d, like \"30s\")");
        return std::nullopt;
    }
    if (*d < min) {
        sink.error(node.source(), path,
                   min == Duration{1} ? std::string("must be greater than 0")
                                      : "must be at least " + format_duration(min));
        return std::nullopt;
    }
    return d;
}

std::optional<std::uint64_t> read_size(Sink& sink, const toml::node& node, const std::string& path,
                                       std::uint64_t min, std::uint64_t max) {
    std::uint64_t bytes = 0;
    if (const auto* text = node.as_string()) {
        auto parsed = parse_size(text->get());
        if (!parsed) {
            sink.error(node.source(), path,
                       "invalid size " + quote(text->get()) +
                           " (expected an integer with an optional unit B, KiB, MiB, GiB or TiB, "
                           "like \"64KiB\")");
            return std::nullopt;
        }
        bytes = *parsed;
    } else if (const auto* integer = node.as_integer()) {
        if (integer->get() < 0) {
            sink.error(node.source(), path, "must not be negative");
            return std::nullopt;
        }
        bytes = static_cast<std::uint64_t>(integer->get());
    } else {
        type_error(sink, node, path, "a size like \"64KiB\"");
        return std::nullopt;
    }
    if (bytes < min) {
        sink.error(node.source(), path,
                   min == 1 ? std::string("must be greater than 0")
                            : "must be at least " + format_size(min));
        return std::nullopt;
    }
    if (bytes > max) {
        sink.error(node.source(), path, "must be at most " + format_size(max));
        return std::nullopt;
    }
    return bytes;
}

std::optional<Endpoint> read_endpoint(Sink& sink, const toml::node& node, const std::string& path) {
    auto text = read_string(sink, node, path, true);
    if (!text) return std::nullopt;
    auto endpoint = parse_endpoint(*text);
    if (!endpoint)
        sink.error(node.source(), path,
                   "invalid address " + quote(*text) + " (expected host:port)");
    return endpoint;
}

std::optional<Cidr> read_cidr(Sink& sink, const toml::node& node, const std::string& path) {
    auto text = read_string(sink, node, path, true);
    if (!text) return std::nullopt;
    auto cidr = parse_cidr(*text);
    if (!cidr)
        sink.error(node.source(), path,
                   "invalid CIDR " + quote(*text) +
                       " (expected an IP address or address/prefix, like \"10.0.0.0/8\")");
    return cidr;
}

const toml::table* read_table(Sink& sink, const toml::node& node, const std::string& path) {
    const auto* table = node.as_table();
    if (table == nullptr) type_error(sink, node, path, "a table");
    return table;
}

const toml::array* read_array(Sink& sink, const toml::node& node, const std::string& path) {
    const auto* array = node.as_array();
    if (array == nullptr) type_error(sink, node, path, "an array");
    return array;
}

TableReader::TableReader(Sink& sink, const toml::table& table, std::string path,
                         std::initializer_list<std::string_view> known)
    : TableReader(sink, table, std::move(path), std::vector<std::string_view>(known)) {}

TableReader::TableReader(Sink& sink, const toml::table& table, std::string path,
                         const std::vector<std::string_view>& known)
    : sink_(sink), table_(table), path_(std::move(path)) {
    for (auto&& [key, node] : table_) {
        if (std::find(known.begin(), known.end(), key.str()) != known.end()) continue;
        std::string message = "unknown key " + quote(key.str());
        if (auto hint = closest(key.str(), known); !hint.empty())
            message += " (did you mean " + quote(hint) + "?)";
        sink_.error(key.source(), path_of(key.str()), std::move(message));
    }
}

const toml::node* TableReader::find(std::string_view key) const {
    return table_.get(key);
}

const toml::node* TableReader::require(std::string_view key) const {
    const auto* node = find(key);
    if (node == nullptr) sink_.error(table_.source(), path_of(key), "required key is missing");
    return node;
}

void TableReader::get_string(std::string_view key, std::string& out, bool allow_empty) const {
    if (const auto* node = find(key))
        if (auto v = read_string(sink_, *node, path_of(key), allow_empty)) out = std::move(*v);
}

void TableReader::get_bool(std::string_view key, bool& out) const {
    if (const auto* node = find(key))
        if (auto v = read_bool(sink_, *node, path_of(key))) out = *v;
}

void TableReader::get_duration(std::string_view key, Duration& out, Duration min) const {
    if (const auto* node = find(key))
        if (auto v = read_duration(sink_, *node, path_of(key), min)) out = *v;
}

void TableReader::get_size(std::string_view key, std::uint64_t& out, std::uint64_t min,
                           std::uint64_t max) const {
    if (const auto* node = find(key))
        if (auto v = read_size(sink_, *node, path_of(key), min, max)) out = *v;
}

const toml::table* TableReader::get_table(std::string_view key) const {
    const auto* node = find(key);
    return node == nullptr ? nullptr : read_table(sink_, *node, path_of(key));
}

const toml::array* TableReader::get_array(std::string_view key) const {
    const auto* node = find(key);
    return node == nullptr ? nullptr : read_array(sink_, *node, path_of(key));
}

}  // namespace switchyard::config::detail
