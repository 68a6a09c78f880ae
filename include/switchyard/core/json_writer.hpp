// JSON output: one streaming writer for every JSON text Switchyard writes
// (control replies, the state file, the hand-over, the audit log's quoting,
// the load tool's summary), and its primitives (escaping, integers, fixed
// decimals), which the access log uses directly: its line is written for
// every request, so it is laid out by hand (access_record.cpp).
//
// It appends to a caller's std::string and allocates nothing else, so a
// worker can write access-log lines straight into its batch buffer. Members
// come out in the order they are written and numbers in a fixed form (a
// canary weight reads 12.50, never 1.25E1), so replies and files are
// byte-exact and diff well. The writer does not check the document's shape:
// its callers are fixed code, pinned by golden tests.
#pragma once

#include <charconv>
#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>

namespace switchyard {

// Appends `s` as the inside of a JSON string (no quotes): valid UTF-8 as is;
// '"' and '\\' escaped; control characters (C0, DEL, C1) as \u00XX, so no raw
// control byte reaches a log line or a terminal; and each byte that is not
// part of a well-formed UTF-8 sequence (stray or truncated, overlong, a
// surrogate, above U+10FFFF) as \ufffd, so the text stays valid JSON.
void append_json_escaped(std::string& out, std::string_view s);

// Appends `value` with exactly `decimals` digits after the point (0 to 17),
// rounded to nearest; NaN and infinities as null.
void append_json_fixed(std::string& out, double value, int decimals);

// Appends a count of microseconds as milliseconds with three decimals
// (1500 → 1.500, -5 → -0.005): the access log's durations, in integer
// arithmetic because it runs for every request (a double's fixed form costs
// several times as much).
void append_json_millis(std::string& out, std::int64_t micros);

// Appends an integer.
template <std::integral T>
requires(!std::same_as<T, bool>) void append_json_integer(std::string& out, T value) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, value);
    out.append(buf, r.ptr);
}

class JsonWriter {
  public:
    explicit JsonWriter(std::string& out) noexcept : out_(out) {}

    JsonWriter& begin_object() {
        open('{');
        return *this;
    }
    JsonWriter& end_object() {
        close('}');
        return *this;
    }
    JsonWriter& begin_array() {
        open('[');
        return *this;
    }
    JsonWriter& end_array() {
        close(']');
        return *this;
    }
    // A member's name; its value is the next thing written.
    JsonWriter& key(std::string_view name);

    JsonWriter& string(std::string_view s);
    // `s`, or null when it is empty (the optional names of the routing state).
    JsonWriter& string_or_null(std::string_view s) { return s.empty() ? null() : string(s); }
    template <std::integral T>
    requires(!std::same_as<T, bool>) JsonWriter& number(T value) {
        separate();
        append_json_integer(out_, value);
        after_value_ = true;
        return *this;
    }
    // `value` with exactly `decimals` digits after the point (0 to 17),
    // rounded to nearest: number_fixed(12.5, 2) is 12.50. NaN and infinities
    // have no JSON form: null.
    JsonWriter& number_fixed(double value, int decimals);
    JsonWriter& boolean(bool value) { return raw(value ? "true" : "false"); }
    JsonWriter& null() { return raw("null"); }
    // An already-encoded JSON value, written as is.
    JsonWriter& raw(std::string_view json) {
        separate();
        out_.append(json);
        after_value_ = true;
        return *this;
    }

  private:
    // A comma goes between two values, never after a key or an opening.
    void separate() {
        if (after_value_) out_.push_back(',');
    }
    void open(char c) {
        separate();
        out_.push_back(c);
        after_value_ = false;
    }
    void close(char c) {
        out_.push_back(c);
        after_value_ = true;
    }

    std::string& out_;
    bool after_value_ = false;
};

}  // namespace switchyard
