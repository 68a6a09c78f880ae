#include "switchyard/http/header_rules.hpp"

#include <charconv>
#include <ctime>

#include "switchyard/core/text.hpp"

namespace switchyard::http {

namespace {

constexpr std::size_t kMaxFramingLines = 8;

struct FramingLines {
    std::array<std::string_view, kMaxFramingLines> cl{};
    std::array<std::string_view, kMaxFramingLines> te{};
    std::size_t cl_count = 0, te_count = 0;
    bool overflow = false;

    void add(std::array<std::string_view, kMaxFramingLines>& a, std::size_t& n,
             std::string_view v) {
        if (n == kMaxFramingLines) {
            overflow = true;
            return;
        }
        a[n++] = v;
    }
};

// The fields every head's framing and persistence depend on: Connection,
// Content-Length, Transfer-Encoding. False for any other field.
bool collect_framing_field(const HeaderField& f, ConnectionTokens& connection,
                           FramingLines& lines) {
    switch (f.id) {
        case bhttp::field::connection:
            connection.add(f.value);
            return true;
        case bhttp::field::content_length:
            lines.add(lines.cl, lines.cl_count, f.value);
            return true;
        case bhttp::field::transfer_encoding:
            lines.add(lines.te, lines.te_count, f.value);
            return true;
        default:
            return false;
    }
}

// Writes passed-on fields as "Name: value\r\n" lines. A head parsed from
// text (head_bytes() > 0) usually has its lines in exactly that form, one
// after the other: those are copied as one run, one append for all of them
// rather than four per field. A field whose line differs (no space after
// the colon, OWS trimmed from its value) or that was not read from text
// (an HTTP/2 head) is written from its name and value. Whatever the caller
// writes itself goes after flush().
class FieldLines {
  public:
    FieldLines(std::string& out, bool from_text) : out_(out), from_text_(from_text) {}

    void add(const HeaderField& f) {
        if (from_text_) {
            // In bounds: the parser ended the name at a ':' and the line at
            // a CRLF inside the head's text.
            const char* name_end = f.name.data() + f.name.size();
            const char* value_end = f.value.data() + f.value.size();
            if (name_end[0] == ':' && name_end[1] == ' ' && f.value.data() == name_end + 2 &&
                value_end[0] == '\r') {
                if (f.name.data() != run_end_) {
                    flush();
                    run_begin_ = f.name.data();
                }
                run_end_ = value_end + 2;
                return;
            }
        }
        flush();
        append_field(out_, f.name, f.value);
    }

    void flush() {
        if (run_begin_ != run_end_) out_.append(run_begin_, run_end_);
        run_begin_ = run_end_ = nullptr;
    }

  private:
    std::string& out_;
    const bool from_text_;
    const char* run_begin_ = nullptr;
    const char* run_end_ = nullptr;
};

bool has_token(std::string_view list, std::string_view token) {
    bool found = false;
    for_each_token(list, [&](std::string_view t) {
        if (iequals(t, token)) found = true;
        return !found;
    });
    return found;
}

// Does a Via value name `via_name` as a received-by (RFC 9110 §7.6.3)? Via =
// #( received-protocol RWS received-by [ RWS comment ] ), received-by =
// pseudonym [ ":" port ]. Any received-protocol ("1.0", "HTTP/1.1"), any
// position in the list, with or without a port or a comment; an entry that
// is only a pseudonym counts too. Entries split at commas outside comments:
// comments nest, hold quoted-pairs, and may contain ',' and '"' (a generic
// list walk would take that '"' for a quoted-string and swallow the entries
// after it, hiding our own).
bool via_names(std::string_view value, std::string_view via_name) {
    std::size_t i = 0;
    while (i < value.size()) {
        std::string_view words[2];  // received-protocol, received-by
        std::size_t count = 0;
        std::size_t word_start = std::string_view::npos;
        auto end_word = [&](std::size_t end) {
            if (word_start == std::string_view::npos) return;
            if (count < 2) words[count] = value.substr(word_start, end - word_start);
            ++count;
            word_start = std::string_view::npos;
        };
        int depth = 0;
        for (; i < value.size(); ++i) {
            const char c = value[i];
            if (depth > 0) {
                if (c == '\\')
                    ++i;  // quoted-pair
                else if (c == '(')
                    ++depth;
                else if (c == ')')
                    --depth;
                continue;
            }
            if (c == ',') break;
            if (c == '(' || c == ' ' || c == '\t') {
                end_word(i);
                if (c == '(') depth = 1;
                continue;
            }
            if (word_start == std::string_view::npos) word_start = i;
        }
        end_word(i);
        ++i;  // the comma
        std::string_view by = count >= 2 ? words[1] : words[0];
        by = by.substr(0, by.find(':'));
        if (!by.empty() && iequals(by, via_name)) return true;
    }
    return false;
}

// "?q" (an absolute-form target with no path) is valid iff "/?q" is.
bool is_valid_query_only(std::string_view query) {
    return is_valid_origin_form("/" + std::string(query));
}

bool is_options_or_trace(std::string_view method) {
    return method == "OPTIONS" || method == "TRACE";
}

bool is_forwarded_field(std::string_view name) {
    return iequals(name, "x-forwarded-for") || iequals(name, "x-forwarded-proto") ||
           iequals(name, "x-forwarded-host");
}

// One forwarded-element (RFC 7239 §4); empty pairs (";;") are allowed.
bool is_valid_forwarded_element(std::string_view el) noexcept {
    std::size_t i = 0;
    while (i < el.size()) {
        if (el[i] == ';') {
            ++i;
            continue;
        }
        const std::size_t name = i;
        while (i < el.size() && is_tchar(el[i]))
            ++i;
        if (i == name || i == el.size() || el[i] != '=') return false;
        ++i;
        if (i < el.size() && el[i] == '"') {
            for (++i;; ++i) {
                if (i == el.size()) return false;  // unterminated quoted-string
                if (el[i] == '"') break;
                if (el[i] == '\\') {
                    if (++i == el.size() || !detail::has_class(el[i], detail::kQuotedPair))
                        return false;
                } else if (!detail::has_class(el[i], detail::kQdtext)) {
                    return false;
                }
            }
            ++i;
        } else {
            const std::size_t value = i;
            while (i < el.size() && is_tchar(el[i]))
                ++i;
            if (i == value) return false;
        }
        if (i < el.size() && el[i] != ';') return false;
    }
    return true;
}

}  // namespace

// Hop-by-hop fields (RFC 9110 §7.6.1), by Beast's id: never forwarded.
bool is_hop_by_hop_field(bhttp::field id) {
    switch (id) {
        case bhttp::field::connection:
        case bhttp::field::keep_alive:
        case bhttp::field::proxy_connection:
        case bhttp::field::te:
        case bhttp::field::trailer:
        case bhttp::field::transfer_encoding:
        case bhttp::field::upgrade:
            return true;
        default:
            return false;
    }
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
    out.append(name);
    out.append(": ");
    out.append(value);
    out.append("\r\n");
}

bool is_valid_forwarded(std::string_view value) noexcept {
    bool any = false;
    const bool valid = for_each_token(value, [&](std::string_view el) {
        any = true;
        return is_valid_forwarded_element(el);
    });
    return valid && any;
}

void append_forwarded_element(std::string& out, std::string_view client_ip, std::string_view proto,
                              std::string_view host) {
    // An IPv6 node is "[v6]" and, with its ':' and brackets, a quoted-string
    // (RFC 7239 §6). No port: the client's ephemeral port helps no one, and
    // X-Forwarded-For carries none either.
    const bool v6 = client_ip.find(':') != std::string_view::npos;
    out.append(v6 ? "for=\"[" : "for=");
    out.append(client_ip);
    if (v6) out.append("]\"");
    out.append(";proto=");
    out.append(proto);
    if (host.empty()) return;
    out.append(";host=");
    // A valid Host has no '"' or '\\' to escape; "name:port" is no token.
    if (is_token(host)) {
        out.append(host);
    } else {
        out.push_back('"');
        out.append(host);
        out.push_back('"');
    }
}

unsigned inspect_request(const RequestHeadParser& head, RequestFacts& facts,
                         std::string_view via_name) {
    FramingLines lines;
    std::string_view upgrade;
    bool loop = false;
    bool bad_max_forwards = false;
    const bool options_or_trace = is_options_or_trace(head.method_string());
    for (const auto& f : head.fields()) {
        // CGI-style upstreams read X_User as X-User: refuse the ambiguity.
        if (f.name.find('_') != std::string_view::npos) return 400;
        if (collect_framing_field(f, facts.connection, lines)) continue;
        switch (f.id) {
            case bhttp::field::host:
                facts.host = f.value;
                ++facts.host_count;
                break;
            case bhttp::field::expect:
                facts.expect_continue = iequals(f.value, "100-continue");
                break;
            case bhttp::field::upgrade:
                upgrade = f.value;
                break;
            case bhttp::field::via:
                loop = loop || via_names(f.value, via_name);
                break;
            case bhttp::field::max_forwards:
                if (options_or_trace) {
                    auto v = parse_content_length(std::span<const std::string_view>(&f.value, 1));
                    if (!v || facts.max_forwards) bad_max_forwards = true;
                    facts.max_forwards = v;
                }
                break;
            default:
                if (f.id == bhttp::field::unknown && iequals(f.name, "x-request-id"))
                    facts.request_id = f.value;
        }
    }
    if (lines.overflow || facts.connection.malformed() || facts.connection.overflowed() ||
        bad_max_forwards)
        return 400;
    facts.framing = request_framing(head.version(), {lines.cl.data(), lines.cl_count},
                                    {lines.te.data(), lines.te_count});
    if (facts.framing.error == FramingError::unknown_transfer_coding) return 501;
    if (facts.framing.error != FramingError::none) return 400;
    if (head.version() >= 11) {
        // RFC 9112 §3.2: exactly one valid Host in HTTP/1.1.
        if (facts.host_count != 1 || !is_valid_host(facts.host)) return 400;
        facts.persistent = !facts.connection.has_close();
    } else {
        if (facts.host_count > 1 || (facts.host_count == 1 && !is_valid_host(facts.host)))
            return 400;
        facts.persistent = facts.connection.has_keep_alive() && !facts.connection.has_close();
    }
    if (!is_valid_method(head.method_string())) return 400;
    if (head.method() == bhttp::verb::connect) return 405;
    // RFC 9112 §3.2: origin-form; a valid http(s) absolute-form, whose
    // authority is the host (the proxy rewrites it to origin-form); "*" for
    // OPTIONS only. Anything else (userinfo, fragments, other schemes, raw
    // non-ASCII) must not reach an upstream.
    const std::string_view target = head.target();
    if (target == "*") {
        if (head.method_string() != "OPTIONS") return 400;
    } else if (!target.empty() && target.front() == '/') {
        if (!is_valid_origin_form(target)) return 400;
    } else if (auto abs = split_absolute_form(target)) {  // no userinfo, no fragment
        const std::string_view pq = abs->path_and_query;  // "", "/p?q" or "?q"
        if (!pq.empty() && pq.front() != '/') {
            if (!is_valid_query_only(pq)) return 400;
        } else if (!pq.empty() && !is_valid_origin_form(pq)) {
            return 400;
        }
        facts.host = abs->authority;
    } else {
        return 400;
    }
    if (loop) return 508;
    // RFC 9110 §7.8: Upgrade is ignored in HTTP/1.0; only WebSocket is tunnelled.
    facts.upgrade_websocket = head.version() >= 11 && facts.connection.has_upgrade() &&
                              !upgrade.empty() && has_token(upgrade, "websocket") &&
                              facts.framing.kind == BodyKind::none;
    return 0;
}

void write_upstream_request_head(const RequestHeadParser& head, const RequestFacts& facts,
                                 const UpstreamRequestOptions& options, std::string& out) {
    out.clear();
    out.append(head.method_string());
    out.push_back(' ');
    std::string_view target = head.target();
    std::string_view host = facts.host;
    if (!target.empty() && target.front() != '/' && target != "*") {
        // Absolute form (RFC 9112 §3.2.2): the target's authority is the Host.
        if (auto abs = split_absolute_form(target)) {
            host = abs->authority;
            if (abs->path_and_query.empty() || abs->path_and_query.front() != '/')
                out.push_back('/');
            target = abs->path_and_query;
        }
    }
    out.append(target);
    out.append(" HTTP/1.1\r\n");

    bool host_written = false;
    std::string_view xff_first;
    bool xff_many = false;
    // The client's Forwarded lines are kept (and ours appended) only from a
    // trusted proxy, and only if every one of them parses: appending to a
    // broken list (an open quote) could hide our element inside it.
    bool keep_forwarded = options.forwarded && options.keep_client_forwarded;
    bool have_forwarded = false;
    FieldLines lines(out, head.head_bytes() > 0);
    for (const auto& f : head.fields()) {
        if (is_hop_by_hop_field(f.id)) continue;
        switch (f.id) {
            case bhttp::field::content_length:  // the proxy writes its own framing
                continue;
            case bhttp::field::host:
                lines.flush();
                append_field(out, f.name, host);
                host_written = true;
                continue;
            default:
                break;
        }
        if (f.id == bhttp::field::max_forwards && facts.max_forwards &&
            is_options_or_trace(head.method_string())) {
            lines.flush();
            out.append("Max-Forwards: ");
            append_number(out, *facts.max_forwards - 1);  // 0 is answered by the proxy
            out.append("\r\n");
            continue;
        }
        if (f.id == bhttp::field::http2_settings) continue;  // h2c is never tunnelled
        if (is_one_of(options.drop_fields, f.name)) continue;
        if (f.id == bhttp::field::forwarded) {
            have_forwarded = true;
            keep_forwarded = keep_forwarded && is_valid_forwarded(f.value);
            continue;
        }
        if (f.id == bhttp::field::unknown && is_forwarded_field(f.name)) {
            if (iequals(f.name, "x-forwarded-for")) {
                if (xff_first.empty() && !xff_many)
                    xff_first = f.value;
                else
                    xff_many = true;
            }
            continue;
        }
        if (facts.connection.names(f.name)) continue;
        lines.add(f);
    }
    lines.flush();
    if (!host_written && !host.empty()) append_field(out, "Host", host);

    out.append("X-Forwarded-For: ");
    if (xff_many) {
        // Rare: several X-Forwarded-For lines combine into one list, in order.
        for (const auto& f : head.fields()) {
            if (f.id == bhttp::field::unknown && iequals(f.name, "x-forwarded-for")) {
                out.append(f.value);
                out.append(", ");
            }
        }
    } else if (!xff_first.empty()) {
        out.append(xff_first);
        out.append(", ");
    }
    out.append(options.client_ip);
    out.append("\r\n");
    append_field(out, "X-Forwarded-Proto", options.proto);
    if (!host.empty()) append_field(out, "X-Forwarded-Host", host);
    if (options.forwarded) {
        out.append("Forwarded: ");
        if (keep_forwarded && have_forwarded) {
            for (const auto& f : head.fields()) {
                if (f.id != bhttp::field::forwarded) continue;
                out.append(f.value);
                out.append(", ");
            }
        }
        append_forwarded_element(out, options.client_ip, options.proto, host);
        out.append("\r\n");
    }
    if (!options.new_request_id.empty()) append_field(out, "X-Request-Id", options.new_request_id);
    out.append(options.extra_fields);
    append_field(out, "Via", options.via);
    if (facts.upgrade_websocket) out.append("Upgrade: websocket\r\nConnection: upgrade\r\n");
    switch (facts.framing.kind) {
        case BodyKind::content_length:
            out.append("Content-Length: ");
            append_number(out, facts.framing.length);
            out.append("\r\n");
            break;
        case BodyKind::chunked:
            out.append("Transfer-Encoding: chunked\r\n");
            break;
        default:
            break;
    }
    out.append("\r\n");
}

unsigned inspect_response(const ResponseHeadParser& head, bool request_was_head,
                          ResponseFacts& facts) {
    FramingLines lines;
    for (const auto& f : head.fields()) {
        if (collect_framing_field(f, facts.connection, lines)) continue;
        switch (f.id) {
            case bhttp::field::date:
                facts.has_date = true;
                break;
            case bhttp::field::upgrade:
                facts.upgrade = f.value;
                break;
            default:
                break;
        }
    }
    if (lines.overflow || facts.connection.malformed() || facts.connection.overflowed()) return 502;
    // RFC 9110 §15: a status is 100..599; Beast takes any three digits.
    if (head.status() < 100 || head.status() > 599) return 502;
    // A Date the Connection field names is removed: it does not count.
    if (facts.has_date && facts.connection.names("date")) facts.has_date = false;
    facts.framing =
        response_framing(head.version(), head.status(), request_was_head, false,
                         {lines.cl.data(), lines.cl_count}, {lines.te.data(), lines.te_count});
    if (facts.framing.error != FramingError::none) return 502;
    facts.persistent = head.version() >= 11
                           ? !facts.connection.has_close()
                           : facts.connection.has_keep_alive() && !facts.connection.has_close();
    if (facts.framing.kind == BodyKind::until_close || facts.framing.must_close)
        facts.persistent = false;
    return 0;
}

bool is_relayed_response_field(const HeaderField& f, const ResponseFacts& facts) {
    if (is_hop_by_hop_field(f.id)) return false;
    if (f.id == bhttp::field::content_length && facts.framing.kind != BodyKind::none) return false;
    return !facts.connection.names(f.name);
}

void write_client_response_head(const ResponseHeadParser& head, const ResponseFacts& facts,
                                const ClientResponseOptions& options, std::string& out) {
    out.clear();
    out.append("HTTP/1.1 ");
    append_number(out, head.status());
    out.push_back(' ');
    out.append(head.reason().empty() ? reason_phrase(head.status()) : head.reason());
    out.append("\r\n");
    FieldLines lines(out, head.head_bytes() > 0);
    for (const auto& f : head.fields())
        if (is_relayed_response_field(f, facts)) lines.add(f);
    lines.flush();
    if (!facts.has_date) out.append(options.date_field);
    append_field(out, "Via", options.via);
    out.append(options.extra_fields);
    if (facts.framing.kind == BodyKind::content_length) {
        out.append("Content-Length: ");
        append_number(out, facts.framing.length);
        out.append("\r\n");
    } else if (options.chunked) {
        out.append("Transfer-Encoding: chunked\r\n");
    }
    if (options.upgrade) {
        append_field(out, "Upgrade", facts.upgrade);
        out.append("Connection: upgrade\r\n");
    } else if (options.close)
        out.append("Connection: close\r\n");
    else if (options.client_http10)
        out.append("Connection: keep-alive\r\n");
    out.append("\r\n");
}

void write_max_forwards_response(const RequestHeadParser& head, bool close,
                                 std::string_view date_field, std::string& out) {
    std::string body;
    if (head.method_string() == "TRACE") {
        body.append(head.method_string());
        body.push_back(' ');
        body.append(head.target());
        body.append(head.version() == 10 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
        for (const auto& f : head.fields()) {
            if (f.id == bhttp::field::cookie || f.id == bhttp::field::authorization ||
                f.id == bhttp::field::proxy_authorization)
                continue;
            append_field(body, f.name, f.value);
        }
        body.append("\r\n");
    }
    out.clear();
    out.append("HTTP/1.1 200 OK\r\n");
    out.append(date_field);
    if (head.method_string() == "TRACE")
        out.append("Content-Type: message/http\r\n");
    else
        out.append("Allow: GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, TRACE\r\n");
    out.append("Content-Length: ");
    append_number(out, body.size());
    out.append("\r\n");
    if (close) out.append("Connection: close\r\n");
    out.append("\r\n");
    out.append(body);
}

std::string_view reason_phrase(unsigned status) {
    switch (status) {
        case 100:
            return "Continue";
        case 101:
            return "Switching Protocols";
        case 103:
            return "Early Hints";
        case 200:
            return "OK";
        case 201:
            return "Created";
        case 204:
            return "No Content";
        case 301:
            return "Moved Permanently";
        case 302:
            return "Found";
        case 304:
            return "Not Modified";
        case 400:
            return "Bad Request";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 408:
            return "Request Timeout";
        case 411:
            return "Length Required";
        case 413:
            return "Content Too Large";
        case 414:
            return "URI Too Long";
        case 417:
            return "Expectation Failed";
        case 421:
            return "Misdirected Request";
        case 429:
            return "Too Many Requests";
        case 431:
            return "Request Header Fields Too Large";
        case 500:
            return "Internal Server Error";
        case 501:
            return "Not Implemented";
        case 502:
            return "Bad Gateway";
        case 503:
            return "Service Unavailable";
        case 504:
            return "Gateway Timeout";
        case 505:
            return "HTTP Version Not Supported";
        case 508:
            return "Loop Detected";
        default:
            return "Unknown";
    }
}

void write_local_response(unsigned status, bool close, std::string_view request_id,
                          std::string_view date_field, std::string& out) {
    std::string_view reason = reason_phrase(status);
    out.clear();
    out.append("HTTP/1.1 ");
    append_number(out, status);
    out.push_back(' ');
    out.append(reason);
    out.append("\r\n");
    out.append(date_field);
    out.append("Content-Type: text/plain\r\nContent-Length: ");
    append_number(out, reason.size() + 5);  // "NNN " + reason + "\n"
    out.append("\r\n");
    if (!request_id.empty()) append_field(out, "X-Request-Id", request_id);
    if (status == 503) out.append("Retry-After: 1\r\n");
    if (close) out.append("Connection: close\r\n");
    out.append("\r\n");
    append_number(out, status);
    out.push_back(' ');
    out.append(reason);
    out.push_back('\n');
}

std::string make_date_field(std::int64_t unix_seconds) {
    std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::size_t n = std::strftime(buf, sizeof buf, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
    return std::string(buf, n);
}

}  // namespace switchyard::http
