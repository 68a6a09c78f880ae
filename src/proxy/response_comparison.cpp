#include "switchyard/proxy/response_comparison.hpp"

#include <algorithm>
#include <array>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string_view>

#include "switchyard/core/json_writer.hpp"
#include "switchyard/core/text.hpp"

namespace switchyard {
namespace {

namespace json = boost::json;

// Fields that describe the transfer, not the response.
constexpr std::array<std::string_view, 8> kHopByHop = {
    "connection", "keep-alive", "transfer-encoding", "content-length",
    "te",         "trailer",    "upgrade",           "via"};

// The differing field names, distinct, in the order found, at most
// kMaxComparisonFields with "other" as the last when more differ.
class FieldList {
  public:
    bool full() const { return overflowed_; }

    void add(std::string_view name) {
        if (overflowed_) return;
        if (std::find(names_.begin(), names_.end(), name) != names_.end()) return;
        if (names_.size() == kMaxComparisonFields) {
            names_.back() = kOtherField;
            overflowed_ = true;
            return;
        }
        names_.emplace_back(name);
    }

    std::vector<std::string> sorted() && {
        std::sort(names_.begin(), names_.end());
        return std::move(names_);
    }

  private:
    static constexpr std::string_view kOtherField = "other";
    std::vector<std::string> names_;
    bool overflowed_ = false;
};

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = ascii_lower(c);
    return out;
}

// Lower-case name -> values joined in order, without the fields that are
// not compared.
std::map<std::string, std::string, std::less<>> compared_headers(
    const CapturedResponse& r, const std::vector<std::string>& ignored) {
    std::map<std::string, std::string, std::less<>> out;
    for (const auto& [name, value] : r.headers) {
        std::string key = lower(name);
        if (std::find(kHopByHop.begin(), kHopByHop.end(), key) != kHopByHop.end()) continue;
        if (std::find(ignored.begin(), ignored.end(), key) != ignored.end()) continue;
        auto [it, fresh] = out.try_emplace(std::move(key));
        if (!fresh) it->second.append(", ");
        it->second.append(trim_ows(value));
    }
    return out;
}

void compare_headers(const CapturedResponse& a, const CapturedResponse& b,
                     const ShadowDiffSettings& settings, FieldList& fields) {
    const auto ha = compared_headers(a, settings.ignore_headers);
    const auto hb = compared_headers(b, settings.ignore_headers);
    std::string name;
    auto differ = [&](const std::string& key) {
        name.assign("header:").append(key);
        fields.add(name);
    };
    // Both maps are sorted: one merge pass.
    auto ia = ha.begin(), ib = hb.begin();
    while (ia != ha.end() || ib != hb.end()) {
        if (ib == hb.end() || (ia != ha.end() && ia->first < ib->first)) {
            differ((ia++)->first);
        } else if (ia == ha.end() || ib->first < ia->first) {
            differ((ib++)->first);
        } else {
            if (ia->second != ib->second) differ(ia->first);
            ++ia;
            ++ib;
        }
    }
}

std::string_view content_type(const CapturedResponse& r) {
    for (const auto& [name, value] : r.headers)
        if (iequals(name, "content-type")) return value;
    return {};
}

bool looks_like_json(const CapturedResponse& r) {
    std::string type = lower(content_type(r));
    if (type.find("json") != std::string::npos) return true;
    const std::size_t start = r.body.find_first_not_of(" \t\r\n");
    return start != std::string::npos && (r.body[start] == '{' || r.body[start] == '[');
}

std::optional<json::value> parse_json(std::string_view body, json::storage_ptr storage) {
    json::parse_options options;
    options.max_depth = kComparisonJsonMaxDepth;
    json::error_code ec;
    json::value v = json::parse(body, ec, std::move(storage), options);
    if (ec) return std::nullopt;
    return v;
}

bool is_number(const json::value& v) {
    return v.is_int64() || v.is_uint64() || v.is_double();
}

double as_double(const json::value& v) {
    if (v.is_double()) return v.get_double();
    if (v.is_int64()) return static_cast<double>(v.get_int64());
    return static_cast<double>(v.get_uint64());
}

// By value: integers exactly, a double against anything as doubles.
bool numbers_equal(const json::value& a, const json::value& b) {
    if (a.is_double() || b.is_double()) return as_double(a) == as_double(b);
    if (a.kind() == b.kind())
        return a.is_int64() ? a.get_int64() == b.get_int64() : a.get_uint64() == b.get_uint64();
    const json::value& i = a.is_int64() ? a : b;
    const json::value& u = a.is_int64() ? b : a;
    return i.get_int64() >= 0 && static_cast<std::uint64_t>(i.get_int64()) == u.get_uint64();
}

bool is_plain_key(std::string_view key) {
    if (key.empty()) return false;
    for (char c : key)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    return true;
}

// Walks two JSON trees side by side, naming the paths that differ. The
// depth is bounded by the parser's max_depth.
class JsonDiff {
  public:
    explicit JsonDiff(FieldList& fields) : fields_(fields) { path_ = "$"; }

    void compare(const json::value& a, const json::value& b) {
        if (fields_.full()) return;
        if (is_number(a) && is_number(b)) {
            if (!numbers_equal(a, b)) fields_.add(path_);
            return;
        }
        if (a.kind() != b.kind()) {
            fields_.add(path_);
            return;
        }
        switch (a.kind()) {
            case json::kind::object:
                compare_objects(a.get_object(), b.get_object());
                return;
            case json::kind::array:
                compare_arrays(a.get_array(), b.get_array());
                return;
            case json::kind::string:
                if (a.get_string() != b.get_string()) fields_.add(path_);
                return;
            case json::kind::bool_:
                if (a.get_bool() != b.get_bool()) fields_.add(path_);
                return;
            default:  // null (numbers are above)
                return;
        }
    }

  private:
    struct Step {
        std::size_t parent_length;
        bool was_cut;
    };

    void compare_objects(const json::object& a, const json::object& b) {
        for (const auto& member : a) {
            const Step step = enter_member(member.key());
            if (const json::value* other = b.if_contains(member.key()))
                compare(member.value(), *other);
            else
                fields_.add(path_);
            leave(step);
        }
        for (const auto& member : b) {
            if (a.contains(member.key())) continue;
            const Step step = enter_member(member.key());
            fields_.add(path_);
            leave(step);
        }
    }

    void compare_arrays(const json::array& a, const json::array& b) {
        if (a.size() != b.size()) fields_.add(path_);
        const Step step = enter("[]");
        const std::size_t common = std::min(a.size(), b.size());
        for (std::size_t i = 0; i < common && !fields_.full(); ++i)
            compare(a[i], b[i]);
        leave(step);
    }

    Step enter_member(std::string_view key) {
        if (is_plain_key(key)) {
            segment_.assign(".").append(key);
        } else {
            segment_.assign("[\"");
            append_json_escaped(segment_, key);
            segment_.append("\"]");
        }
        return enter(segment_);
    }

    // Appends a step to the path unless that makes it too long; once one
    // step is left out, so are all below it (the path stays a true prefix).
    Step enter(std::string_view step) {
        const Step saved{path_.size(), cut_};
        if (!cut_ && path_.size() + step.size() <= kMaxComparisonPathLength)
            path_.append(step);
        else
            cut_ = true;
        return saved;
    }
    void leave(const Step& step) {
        path_.resize(step.parent_length);
        cut_ = step.was_cut;
    }

    FieldList& fields_;
    std::string path_;
    bool cut_ = false;  // a step was left out of path_
    std::string segment_;
};

void compare_bodies(const CapturedResponse& a, const CapturedResponse& b, FieldList& fields) {
    if (looks_like_json(a) || looks_like_json(b)) {
        // Both trees live until the comparison ends: one arena for both.
        json::monotonic_resource arena;
        json::storage_ptr storage(&arena);
        const std::optional<json::value> ja = parse_json(a.body, storage);
        const std::optional<json::value> jb = ja ? parse_json(b.body, storage) : std::nullopt;
        if (ja && jb) {
            JsonDiff(fields).compare(*ja, *jb);
            return;
        }
    }
    if (a.body != b.body) fields.add("body");
}

}  // namespace

ComparisonResult compare_responses(const CapturedResponse& a, const CapturedResponse& b,
                                   const ShadowDiffSettings& settings) {
    if (a.truncated || b.truncated || a.body.size() > settings.max_body ||
        b.body.size() > settings.max_body)
        return {false, {}};
    FieldList fields;
    if (a.status != b.status) fields.add("status");
    compare_headers(a, b, settings, fields);
    compare_bodies(a, b, fields);
    return {true, std::move(fields).sorted()};
}

}  // namespace switchyard
