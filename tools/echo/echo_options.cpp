#include "echo_options.hpp"

#include <charconv>

#include "switchyard/core/text.hpp"

namespace switchyard::echo {
namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool parse_u64(std::string_view s, std::uint64_t& out) {
    if (s.empty()) return false;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && end == s.data() + s.size();
}

// One "header=Name:Value" (or "trailer=...") parameter, already URL-decoded,
// appended to `lines`.
std::string add_field(std::string_view key, std::string_view decoded, EchoOptions& out,
                      std::string& lines) {
    const std::string k(key);
    auto colon = decoded.find(':');
    if (colon == std::string_view::npos) return k + ": expected Name:Value";
    auto name = decoded.substr(0, colon);
    const auto value = trim_ows(decoded.substr(colon + 1));
    if (!is_token(name)) return k + ": invalid field name";
    if (value.find_first_of(std::string_view{"\r\n\0", 3}) != std::string_view::npos)
        return k + ": CR, LF and NUL are not allowed in a value";
    if (&lines == &out.extra_headers && iequals(name, "content-type")) out.has_content_type = true;
    lines.append(name).append(": ").append(value).append("\r\n");
    return {};
}

std::string apply(std::string_view key, std::string_view raw_value, std::string& scratch,
                  EchoOptions& out) {
    std::uint64_t n = 0;
    if (key == "status") {
        if (!parse_u64(raw_value, n) || n < 200 || n > 999) return "status: expected 200..999";
        out.status = static_cast<unsigned>(n);
    } else if (key == "delay_ms") {
        if (!parse_u64(raw_value, n) || n > 3'600'000) return "delay_ms: expected 0..3600000";
        out.delay_ms = n;
    } else if (key == "bytes") {
        if (!parse_u64(raw_value, n)) return "bytes: expected a number";
        out.bytes = n;
    } else if (key == "echo") {
        if (raw_value == "head") {
            out.echo = EchoMode::head;
        } else if (raw_value == "body") {
            out.echo = EchoMode::body;
        } else {
            return "echo: expected head or body";
        }
    } else if (key == "chunked") {
        out.chunked = raw_value != "0";
    } else if (key == "close") {
        out.close = raw_value != "0";
    } else if (key == "abort") {
        if (raw_value == "mid") {
            out.abort = AbortMode::mid;
        } else if (raw_value == "reset") {
            out.abort = AbortMode::reset;
        } else if (raw_value == "before") {
            out.abort = AbortMode::before;
        } else {
            return "abort: expected mid, reset or before";
        }
    } else if (key == "header") {
        if (!url_decode(raw_value, scratch)) return "header: malformed %-escape";
        return add_field(key, scratch, out, out.extra_headers);
    } else if (key == "trailer") {
        if (!url_decode(raw_value, scratch)) return "trailer: malformed %-escape";
        return add_field(key, scratch, out, out.trailers);
    }
    return {};
}

}  // namespace

void EchoOptions::reset() {
    status = 200;
    delay_ms = 0;
    echo = EchoMode::none;
    bytes.reset();
    chunked = false;
    close = false;
    abort = AbortMode::none;
    has_content_type = false;
    extra_headers.clear();
    trailers.clear();
}

bool url_decode(std::string_view in, std::string& out) {
    out.clear();
    for (std::size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (c == '+') {
            out.push_back(' ');
        } else if (c == '%') {
            if (i + 2 >= in.size()) return false;
            int hi = hex_value(in[i + 1]);
            int lo = hex_value(in[i + 2]);
            if (hi < 0 || lo < 0) return false;
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else {
            out.push_back(c);
        }
    }
    return true;
}

std::string parse_query(std::string_view target, EchoOptions& out) {
    out.reset();
    auto q = target.find('?');
    if (q == std::string_view::npos) return {};
    auto query = target.substr(q + 1);
    if (auto hash = query.find('#'); hash != std::string_view::npos) query = query.substr(0, hash);
    std::string scratch;
    while (!query.empty()) {
        auto amp = query.find('&');
        auto param = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (param.empty()) continue;
        auto eq = param.find('=');
        auto key = param.substr(0, eq);
        auto value = eq == std::string_view::npos ? std::string_view{} : param.substr(eq + 1);
        if (auto err = apply(key, value, scratch, out); !err.empty()) return err;
    }
    return {};
}

}  // namespace switchyard::echo
