#include "switchyard/http/framing.hpp"

#include <limits>

#include "switchyard/core/text.hpp"
#include "switchyard/http/field_rules.hpp"

namespace switchyard::http {

namespace {

enum class ClState { absent, ok, bad, conflicting };

// Parses every Content-Length value; a bad element outranks a conflict so
// that "3, x" reports the syntax error.
ClState parse_cl(std::span<const std::string_view> values, std::uint64_t& out) noexcept {
    if (values.empty()) return ClState::absent;
    std::string_view first;
    bool have = false;
    bool conflict = false;
    for (std::string_view v : values) {
        std::size_t start = 0;
        while (true) {
            const std::size_t comma = v.find(',', start);
            const std::string_view el = trim_ows(v.substr(start, comma - start));
            // RFC 9110 §8.6: Content-Length = 1*DIGIT; no sign, no empty element.
            if (el.empty()) return ClState::bad;
            std::uint64_t n = 0;
            for (char c : el) {
                if (c < '0' || c > '9') return ClState::bad;
                const auto d = static_cast<std::uint64_t>(c - '0');
                if (n > (std::numeric_limits<std::uint64_t>::max() - d) / 10) return ClState::bad;
                n = n * 10 + d;
            }
            if (!have) {
                first = el;
                out = n;
                have = true;
            } else if (el != first) {
                conflict = true;
            }
            if (comma == std::string_view::npos) break;
            start = comma + 1;
        }
    }
    return conflict ? ClState::conflicting : ClState::ok;
}

struct TeSummary {
    bool present = false;
    bool malformed = false;
    int chunked = 0;             // elements named chunked (with or without parameters)
    bool final_chunked = false;  // the last element is exactly "chunked"
    bool unknown = false;        // a coding we do not implement, or one with parameters
};

std::size_t skip_ows(std::string_view s, std::size_t i) noexcept {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t'))
        ++i;
    return i;
}

std::size_t skip_token(std::string_view s, std::size_t i) noexcept {
    while (i < s.size() && is_tchar(s[i]))
        ++i;
    return i;
}

// transfer-coding = token *( OWS ";" OWS transfer-parameter ) (RFC 9112 §7)
// transfer-parameter = token BWS "=" BWS ( token / quoted-string )
// Returns false on a syntax error; `params` says whether any were present.
bool parse_coding(std::string_view el, std::string_view& name, bool& params) noexcept {
    std::size_t i = skip_token(el, 0);
    name = el.substr(0, i);
    params = false;
    if (name.empty()) return false;
    while (true) {
        i = skip_ows(el, i);
        if (i == el.size()) return true;
        if (el[i] != ';') return false;
        params = true;
        i = skip_ows(el, i + 1);
        const std::size_t pn = i;
        i = skip_token(el, i);
        if (i == pn) return false;
        i = skip_ows(el, i);
        if (i == el.size() || el[i] != '=') return false;
        i = skip_ows(el, i + 1);
        if (i < el.size() && el[i] == '"') {
            ++i;
            while (true) {
                if (i == el.size()) return false;  // unterminated quoted-string
                const char c = el[i];
                if (c == '"') {
                    ++i;
                    break;
                }
                if (c == '\\') {
                    if (i + 1 == el.size() || !detail::has_class(el[i + 1], detail::kQuotedPair))
                        return false;
                    i += 2;
                    continue;
                }
                if (!detail::has_class(c, detail::kQdtext)) return false;
                ++i;
            }
        } else {
            const std::size_t pv = i;
            i = skip_token(el, i);
            if (i == pv) return false;
        }
    }
}

bool is_known_coding(std::string_view name) noexcept {
    // RFC 9112 §7 and the HTTP Transfer Coding Registry; "identity" is gone.
    return iequals(name, "chunked") || iequals(name, "gzip") || iequals(name, "x-gzip") ||
           iequals(name, "deflate") || iequals(name, "compress") || iequals(name, "x-compress");
}

TeSummary analyze_te(std::span<const std::string_view> values) noexcept {
    TeSummary s;
    s.present = !values.empty();
    bool any = false;
    for (std::string_view v : values) {
        for_each_token(v, [&](std::string_view el) {
            any = true;
            std::string_view name;
            bool params = false;
            if (!parse_coding(el, name, params)) {
                s.malformed = true;
                return false;
            }
            const bool is_chunked = iequals(name, "chunked");
            if (is_chunked) ++s.chunked;
            s.final_chunked = is_chunked && !params;
            if (params || !is_known_coding(name)) s.unknown = true;
            return true;
        });
        if (s.malformed) break;
    }
    // Transfer-Encoding present with no coding at all ("", " , "): some
    // recipients would still see "TE present"; refuse the ambiguity.
    if (s.present && !any) s.malformed = true;
    return s;
}

Framing fail(FramingError e) noexcept {
    Framing f;
    f.error = e;
    f.must_close = true;
    return f;
}

FramingError cl_error(ClState st) noexcept {
    return st == ClState::conflicting ? FramingError::conflicting_content_length
                                      : FramingError::bad_content_length;
}

}  // namespace

Framing request_framing(unsigned version, std::span<const std::string_view> content_length_values,
                        std::span<const std::string_view> transfer_encoding_values) noexcept {
    if (!transfer_encoding_values.empty()) {
        // RFC 9112 §6.1: TE in HTTP/1.0 means the framing is faulty.
        if (version < 11) return fail(FramingError::transfer_encoding_on_http10);
        // RFC 9112 §6.1/§6.3 rule 3: both is a smuggling shape; a server MAY
        // reject it, and we do (400 and close) instead of letting TE win.
        if (!content_length_values.empty())
            return fail(FramingError::content_length_with_transfer_encoding);
        const TeSummary te = analyze_te(transfer_encoding_values);
        if (te.malformed) return fail(FramingError::bad_transfer_encoding);
        // RFC 9112 §6.1: a sender MUST NOT apply chunked more than once.
        if (te.chunked > 1) return fail(FramingError::chunked_twice);
        // RFC 9112 §6.3 rule 4: no final chunked in a request -> 400 and close.
        if (!te.final_chunked) return fail(FramingError::transfer_encoding_not_chunked);
        // RFC 9112 §6.1: a coding the server does not understand -> 501.
        if (te.unknown) return fail(FramingError::unknown_transfer_coding);
        Framing f;
        f.kind = BodyKind::chunked;
        return f;
    }
    std::uint64_t length = 0;
    const ClState cl = parse_cl(content_length_values, length);
    if (cl == ClState::absent) return Framing{};  // §6.3 rule 7: no body
    if (cl != ClState::ok) return fail(cl_error(cl));
    Framing f;
    f.kind = BodyKind::content_length;
    f.length = length;
    return f;
}

Framing response_framing(unsigned version, unsigned status, bool request_was_head,
                         bool request_was_connect,
                         std::span<const std::string_view> content_length_values,
                         std::span<const std::string_view> transfer_encoding_values) noexcept {
    Framing f;
    // §6.3 rule 2: the connection becomes a tunnel; CL and TE are ignored.
    if (request_was_connect && status >= 200 && status < 300) {
        f.kind = BodyKind::until_close;
        f.must_close = true;
        return f;
    }
    std::uint64_t length = 0;
    const ClState cl = parse_cl(content_length_values, length);
    if (cl == ClState::bad || cl == ClState::conflicting) return fail(cl_error(cl));
    const bool has_cl = cl == ClState::ok;
    const bool has_te = !transfer_encoding_values.empty();
    const TeSummary te = analyze_te(transfer_encoding_values);
    if (te.malformed) return fail(FramingError::bad_transfer_encoding);

    // §6.3 rule 1: these never have content, whatever the fields say.
    const bool informational = status >= 100 && status < 200;
    if (request_was_head || informational || status == 204 || status == 304) {
        // RFC 9110 §8.6 / RFC 9112 §6.1: no CL or TE in 1xx/204. Bytes an
        // upstream sends after such a head would be taken as the next response.
        if ((informational || status == 204) && (has_cl || has_te)) f.must_close = true;
        if (has_te && version < 11) f.must_close = true;  // §6.1: close after it
        return f;
    }
    if (has_te) {
        if (version < 11) return fail(FramingError::transfer_encoding_on_http10);
        if (te.chunked > 1) return fail(FramingError::chunked_twice);
        if (te.final_chunked) {
            f.kind = BodyKind::chunked;
            // §6.3 rule 3: TE overrides CL, and the connection is not reused.
            f.must_close = has_cl;
            return f;
        }
        // §6.3 rule 4: read until the server closes.
        f.kind = BodyKind::until_close;
        f.must_close = true;
        return f;
    }
    if (has_cl) {
        f.kind = BodyKind::content_length;
        f.length = length;
        return f;
    }
    f.kind = BodyKind::until_close;  // §6.3 rule 8
    f.must_close = true;
    return f;
}

unsigned request_error_status(FramingError error) noexcept {
    switch (error) {
        case FramingError::none:
            return 0;
        case FramingError::unknown_transfer_coding:
            return 501;
        default:
            return 400;
    }
}

std::string_view to_string(FramingError error) noexcept {
    switch (error) {
        case FramingError::none:
            return "none";
        case FramingError::bad_content_length:
            return "bad_content_length";
        case FramingError::conflicting_content_length:
            return "conflicting_content_length";
        case FramingError::content_length_with_transfer_encoding:
            return "content_length_with_transfer_encoding";
        case FramingError::transfer_encoding_not_chunked:
            return "transfer_encoding_not_chunked";
        case FramingError::unknown_transfer_coding:
            return "unknown_transfer_coding";
        case FramingError::transfer_encoding_on_http10:
            return "transfer_encoding_on_http10";
        case FramingError::chunked_twice:
            return "chunked_twice";
        case FramingError::bad_transfer_encoding:
            return "bad_transfer_encoding";
    }
    return "unknown";
}

std::optional<std::uint64_t> parse_content_length(
    std::span<const std::string_view> values) noexcept {
    std::uint64_t n = 0;
    if (parse_cl(values, n) != ClState::ok) return std::nullopt;
    return n;
}

}  // namespace switchyard::http
