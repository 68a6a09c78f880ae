#include "switchyard/http/h2_head.hpp"

#include <charconv>

#include "switchyard/core/text.hpp"
#include "switchyard/http/field_rules.hpp"
#include "switchyard/http/header_rules.hpp"

namespace switchyard::http {

unsigned read_request_fields(std::span<const H2FieldView> fields, bool body_follows,
                             RequestParts& out) {
    std::string_view method, path, authority, host, content_length;
    out.cookie.clear();
    unsigned hosts = 0;
    for (const auto& f : fields) {
        if (f.name == ":method")
            method = f.value;
        else if (f.name == ":path")
            path = f.value;
        else if (f.name == ":authority")
            authority = f.value;
        else if (f.name == "host") {
            host = f.value;
            ++hosts;
        } else if (f.name == "content-length")
            content_length = f.value;
        else if (f.name == "cookie") {
            if (!out.cookie.empty()) out.cookie.append("; ");
            out.cookie.append(f.value);
        }
    }
    if (hosts > 1 || (hosts == 1 && !authority.empty() && host != authority)) return 400;
    if (authority.empty()) authority = host;
    if (authority.empty()) return 400;
    out.method = method;
    out.target = method == "CONNECT" ? authority : path;
    auto& parts = out.fields;
    parts.clear();
    // As a parser reads them from text: values without surrounding whitespace.
    parts.push_back({bhttp::field::unknown, "host", trim_ows(authority)});
    for (const auto& f : fields) {
        if (f.name.front() == ':' || f.name == "host" || f.name == "cookie") continue;
        parts.push_back({bhttp::field::unknown, f.name, trim_ows(f.value)});
    }
    if (!out.cookie.empty())
        parts.push_back({bhttp::field::unknown, "cookie", trim_ows(out.cookie)});
    out.chunked = body_follows && content_length.empty();
    if (out.chunked) parts.push_back({bhttp::field::unknown, "transfer-encoding", "chunked"});
    return 0;
}

unsigned write_request_head(std::span<const H2FieldView> fields, bool body_follows,
                            std::string& out, bool& chunked) {
    RequestParts parts;
    const unsigned refuse = read_request_fields(fields, body_follows, parts);
    if (refuse != 0) return refuse;
    out.clear();
    out.append(parts.method);
    out.push_back(' ');
    out.append(parts.target);
    out.append(" HTTP/1.1\r\n");
    for (const auto& f : parts.fields)
        append_field(out, f.name, f.value);
    out.append("\r\n");
    chunked = parts.chunked;
    return 0;
}

std::string_view authority_host(std::span<const H2FieldView> fields) {
    std::string_view authority, host;
    for (const auto& f : fields) {
        if (f.name == ":authority") authority = f.value;
        if (f.name == "host") host = f.value;
    }
    std::string_view a = authority.empty() ? host : authority;
    if (a.starts_with('[')) {
        const auto end = a.find(']');
        return end == std::string_view::npos ? std::string_view{} : a.substr(1, end - 1);
    }
    return a.substr(0, a.find(':'));
}

void append_chunk(std::string& out, std::string_view data) {
    if (data.empty()) return;
    char size[16];
    const auto r = std::to_chars(size, size + sizeof size, data.size(), 16);
    out.append(size, r.ptr);
    out.append("\r\n");
    out.append(data);
    out.append("\r\n");
}

void append_last_chunk(std::string& out, std::span<const H2FieldView> trailers) {
    out.append("0\r\n");
    for (const auto& f : trailers)
        append_field(out, f.name, f.value);
    out.append("\r\n");
}

namespace {

// The "Name: value\r\n" lines of `lines` (the proxy's own) as fields.
void add_own_lines(std::string_view lines, std::vector<H2FieldView>& out) {
    while (!lines.empty()) {
        const auto end = lines.find("\r\n");
        const std::string_view line = lines.substr(0, end);
        const auto colon = line.find(':');
        if (colon != std::string_view::npos && colon > 0)
            out.push_back({line.substr(0, colon), trim_ows(line.substr(colon + 1))});
        if (end == std::string_view::npos) break;
        lines.remove_prefix(end + 2);
    }
}

}  // namespace

std::size_t collect_response_fields(const ResponseHeadParser& head, const ResponseFacts& facts,
                                    const ClientResponseOptions& options,
                                    std::vector<H2FieldView>& out, std::string& scratch) {
    out.clear();
    for (const auto& f : head.fields())
        if (is_relayed_response_field(f, facts)) out.push_back({f.name, f.value});
    if (!facts.has_date) add_own_lines(options.date_field, out);
    out.push_back({"via", options.via});
    add_own_lines(options.extra_fields, out);
    if (facts.framing.kind == BodyKind::content_length) {
        scratch.clear();
        append_number(scratch, facts.framing.length);
        out.push_back({"content-length", scratch});
    }
    std::size_t bytes = 17;  // "HTTP/1.1 200 OK\r\n", the empty line
    for (const auto& f : out)
        bytes += f.name.size() + f.value.size() + 4;
    return bytes;
}

namespace {

// The field on the line text[at, end) (a name, a colon, a value), its name
// lower-cased in place; false if the line has no colon or no name.
bool read_field_line(std::string& text, std::size_t at, std::size_t end, H2FieldView& out) {
    const std::size_t colon = text.find(':', at);
    if (colon == std::string::npos || colon >= end || colon == at) return false;
    for (std::size_t i = at; i < colon; ++i)
        text[i] = ascii_lower(text[i]);
    const std::string_view line(text.data() + at, end - at);
    out = {line.substr(0, colon - at), trim_ows(line.substr(colon - at + 1))};
    return true;
}

}  // namespace

bool read_own_response_head(std::string& text, OwnResponseHead& out) {
    out.fields.clear();
    out.chunked = false;
    // "HTTP/1.1 SSS" and the rest of the status line.
    constexpr std::string_view kVersion = "HTTP/1.1 ";
    if (!std::string_view(text).starts_with(kVersion) || text.size() < kVersion.size() + 3)
        return false;
    unsigned status = 0;
    for (std::size_t i = kVersion.size(); i < kVersion.size() + 3; ++i) {
        if (text[i] < '0' || text[i] > '9') return false;
        status = status * 10 + static_cast<unsigned>(text[i] - '0');
    }
    out.status = status;
    std::size_t at = text.find("\r\n", kVersion.size());
    if (at == std::string::npos) return false;
    at += 2;
    for (;;) {
        const std::size_t end = text.find("\r\n", at);
        if (end == std::string::npos) return false;
        if (end == at) {
            out.bytes = end + 2;
            return true;
        }
        H2FieldView field;
        if (!read_field_line(text, at, end, field)) return false;
        at = end + 2;
        if (field.name == "transfer-encoding") out.chunked = true;
        if (is_hop_by_hop(field.name)) continue;
        out.fields.push_back(field);
    }
}

std::vector<H2FieldView> read_own_trailers(std::string& text) {
    std::vector<H2FieldView> out;
    std::size_t at = 0;
    while (at < text.size()) {
        std::size_t end = text.find("\r\n", at);
        if (end == std::string::npos) end = text.size();
        H2FieldView field;
        if (read_field_line(text, at, end, field)) out.push_back(field);
        at = end + 2;
    }
    return out;
}

}  // namespace switchyard::http
