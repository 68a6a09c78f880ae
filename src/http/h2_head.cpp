#include "switchyard/http/h2_head.hpp"

#include <charconv>

#include "switchyard/core/text.hpp"
#include "switchyard/http/header_rules.hpp"

namespace switchyard::http {

unsigned write_request_head(std::span<const H2Field> fields, bool body_follows, std::string& out,
                            bool& chunked) {
    std::string_view method, path, authority, host, content_length;
    std::string cookie;
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
            if (!cookie.empty()) cookie.append("; ");
            cookie.append(f.value);
        }
    }
    if (hosts > 1 || (hosts == 1 && !authority.empty() && host != authority)) return 400;
    if (authority.empty()) authority = host;
    if (authority.empty()) return 400;
    const bool connect = method == "CONNECT";
    out.clear();
    out.append(method);
    out.push_back(' ');
    out.append(connect ? authority : path);
    out.append(" HTTP/1.1\r\n");
    append_field(out, "host", authority);
    for (const auto& f : fields) {
        if (f.name.front() == ':' || f.name == "host" || f.name == "cookie") continue;
        append_field(out, f.name, f.value);
    }
    if (!cookie.empty()) append_field(out, "cookie", cookie);
    chunked = body_follows && content_length.empty();
    if (chunked) out.append("transfer-encoding: chunked\r\n");
    out.append("\r\n");
    return 0;
}

std::string authority_host(std::span<const H2Field> fields) {
    std::string_view authority, host;
    for (const auto& f : fields) {
        if (f.name == ":authority") authority = f.value;
        if (f.name == "host") host = f.value;
    }
    std::string_view a = authority.empty() ? host : authority;
    if (a.starts_with('[')) {
        const auto end = a.find(']');
        return end == std::string_view::npos ? std::string() : std::string(a.substr(1, end - 1));
    }
    return std::string(a.substr(0, a.find(':')));
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

void append_last_chunk(std::string& out, std::span<const H2Field> trailers) {
    out.append("0\r\n");
    for (const auto& f : trailers)
        append_field(out, f.name, f.value);
    out.append("\r\n");
}

void response_fields(const ResponseHeadParser& head, std::vector<H2Field>& out) {
    out.clear();
    out.reserve(head.fields().size());
    for (const auto& f : head.fields()) {
        if (is_hop_by_hop_field(f.id)) continue;
        H2Field field{std::string(f.name), std::string(f.value)};
        for (char& c : field.name)
            c = ascii_lower(c);
        out.push_back(std::move(field));
    }
}

}  // namespace switchyard::http
