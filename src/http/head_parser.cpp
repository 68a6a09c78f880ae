#include "switchyard/http/head_parser.hpp"

#include <algorithm>
#include <limits>

#include "switchyard/core/text.hpp"
#include "switchyard/http/field_rules.hpp"

namespace switchyard::http {

unsigned status_for(HeadError e) {
    switch (e) {
        case HeadError::none:
            return 0;
        case HeadError::malformed:
        case HeadError::bad_field:
            return 400;
        case HeadError::target_too_long:
            return 414;
        case HeadError::header_too_large:
            return 431;
        case HeadError::bad_version:
            return 505;
        case HeadError::method_too_long:
            return 501;
    }
    return 400;
}

namespace {

// A request line's method (RFC 9112 §3): a token, no longer than any
// registered method.
HeadError check_method(std::string_view method) noexcept {
    for (char c : method)
        if (!is_tchar(c)) return HeadError::malformed;
    if (method.size() > kMaxMethodBytes) return HeadError::method_too_long;
    return method.empty() ? HeadError::malformed : HeadError::none;
}

// Its target: not empty, without whitespace (a second SP, HTAB) or other CTLs.
HeadError check_target(std::string_view target) noexcept {
    if (target.empty()) return HeadError::malformed;
    for (char c : target)
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return HeadError::malformed;
    return HeadError::none;
}

bool is_ows(char c) noexcept {
    return c == ' ' || c == '\t';
}

// A list as Beast 1.81 reads Connection, Content-Length and
// Transfer-Encoding: tokens separated by commas and OWS, empty elements
// allowed. Calls f(token) for each token before the first octet that breaks
// that rule; returns false if there is one.
template <class F>
bool walk_token_list(std::string_view v, F&& f) {
    bool need_comma = false;
    std::size_t i = 0;
    while (true) {
        while (i < v.size() && is_ows(v[i]))
            ++i;
        if (i == v.size()) return true;
        if (is_tchar(v[i])) {
            if (need_comma) return false;
            const std::size_t start = i;
            while (i < v.size() && is_tchar(v[i]))
                ++i;
            f(v.substr(start, i - start));
            need_comma = true;
        } else if (v[i] == ',') {
            need_comma = false;
            ++i;
        } else {
            return false;
        }
    }
}

// The checks Beast made of the fields that frame a message, kept so that the
// heads it refused are still refused (framing.hpp then decides the framing,
// and refuses more). Beast refused a Connection that is not a token list; a
// Content-Length that is not a list of decimals, disagrees with an earlier
// one or follows a chunked Transfer-Encoding; a Transfer-Encoding after a
// Content-Length or after one whose last coding is chunked.
class FramingFieldCheck {
  public:
    bool accepts(bhttp::field id, std::string_view value) noexcept {
        switch (id) {
            case bhttp::field::connection:
            case bhttp::field::proxy_connection:
                return walk_token_list(value, [](std::string_view) {});
            case bhttp::field::content_length:
                return content_length(value);
            case bhttp::field::transfer_encoding:
                return transfer_encoding(value);
            default:
                return true;
        }
    }

  private:
    bool content_length(std::string_view value) noexcept {
        if (chunked_) return false;
        std::size_t tokens = 0;
        bool ok = true;
        const bool list = walk_token_list(value, [&](std::string_view token) {
            ++tokens;
            std::uint64_t n = 0;
            for (char c : token) {
                const auto d = static_cast<std::uint64_t>(c - '0');
                if (c < '0' || c > '9' ||
                    n > (std::numeric_limits<std::uint64_t>::max() - d) / 10) {
                    ok = false;
                    return;
                }
                n = n * 10 + d;
            }
            if (have_length_ && n != length_) ok = false;
            have_length_ = true;
            length_ = n;
        });
        // An empty element ("1,", ", 1") is refused too.
        const auto commas = static_cast<std::size_t>(std::count(value.begin(), value.end(), ','));
        return ok && list && tokens > 0 && tokens == commas + 1;
    }

    bool transfer_encoding(std::string_view value) noexcept {
        if (chunked_ || have_length_) return false;
        std::size_t tokens = 0;
        std::size_t first_chunked = std::string_view::npos;
        walk_token_list(value, [&](std::string_view token) {
            if (first_chunked == std::string_view::npos && iequals(token, "chunked"))
                first_chunked = tokens;
            ++tokens;
        });
        chunked_ = first_chunked != std::string_view::npos && first_chunked + 1 == tokens;
        return true;
    }

    bool have_length_ = false;
    std::uint64_t length_ = 0;
    bool chunked_ = false;
};
}  // namespace

HeadError check_request_line(std::string_view line) noexcept {
    const std::size_t method_end = line.find(' ');
    if (const HeadError e = check_method(line.substr(0, method_end)); e != HeadError::none)
        return e;
    if (method_end == std::string_view::npos) return HeadError::malformed;
    const std::string_view rest = line.substr(method_end + 1);
    const std::size_t target_end = rest.rfind(' ');
    if (target_end == std::string_view::npos) return HeadError::malformed;  // HTTP/0.9: no version
    if (const HeadError e = check_target(rest.substr(0, target_end)); e != HeadError::none)
        return e;
    const std::string_view version = rest.substr(target_end + 1);
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    if (version.size() != 8 || !version.starts_with("HTTP/") || !digit(version[5]) ||
        version[6] != '.' || !digit(version[7]))
        return HeadError::malformed;
    if (version[5] != '1' || (version[7] != '0' && version[7] != '1'))
        return HeadError::bad_version;
    return HeadError::none;
}

template <bool isRequest>
HeadParser<isRequest>::HeadParser(const Limits& limits, std::vector<HeaderField>& fields)
    : limits_(limits), fields_(fields) {
    fields_.clear();
}

template <bool isRequest>
const HeaderField* HeadParser<isRequest>::find(bhttp::field id) const {
    for (const auto& f : fields_)
        if (f.id == id) return &f;
    return nullptr;
}

template <bool isRequest>
bool HeadParser<isRequest>::target_too_long(std::string_view partial_head) const {
    if (!isRequest || limits_.max_target_bytes == 0) return false;
    auto first_sp = partial_head.find(' ');
    if (first_sp == std::string_view::npos) return false;
    auto line_end = partial_head.find('\n');
    std::size_t end = line_end == std::string_view::npos ? partial_head.size() : line_end;
    // " HTTP/1.1\r" follows the target on a complete line.
    return end - first_sp > limits_.max_target_bytes + sizeof(" HTTP/1.1\r");
}

template <bool isRequest>
ParseStatus HeadParser<isRequest>::parse(std::string_view buffered) {
    if (head_done_) return ParseStatus::done;
    if (error_ != HeadError::none) return ParseStatus::error;
    const std::size_t from = scanned_ > 3 ? scanned_ - 3 : 0;
    if constexpr (isRequest) {
        // The request line is judged as soon as it is complete: an HTTP/0.9
        // line or a bad version is refused at once, not after client_header.
        if (!line_checked_) {
            const std::size_t eol = buffered.find("\r\n", from);
            if (eol != std::string_view::npos) {
                line_checked_ = true;
                const HeadError e = check_request_line(buffered.substr(0, eol));
                if (e != HeadError::none) return fail(e);
            }
        }
    }
    auto end = buffered.find("\r\n\r\n", from);
    if (end == std::string_view::npos) {
        // A bare LF can never end a head we accept (RFC 9112 §2.2 is strict
        // for intermediaries): refuse now rather than at the size limit.
        for (std::size_t i = from; i < buffered.size(); ++i)
            if (buffered[i] == '\n' && (i == 0 || buffered[i - 1] != '\r'))
                return fail(HeadError::malformed);
        // A request starts with a token method: anything else (a TLS
        // handshake on a plain port, binary noise) is refused at once rather
        // than after client_header. Bytes before `from` were checked already.
        if constexpr (isRequest) {
            const std::size_t method_end = std::min(buffered.find(' '), buffered.size());
            for (std::size_t i = from; i < method_end; ++i)
                if (!is_tchar(buffered[i])) return fail(HeadError::malformed);
            if (method_end > kMaxMethodBytes) return fail(HeadError::method_too_long);
        }
        scanned_ = buffered.size();
        if (target_too_long(buffered)) return fail(HeadError::target_too_long);
        if (buffered.size() > limits_.max_header_bytes) return fail(HeadError::header_too_large);
        return ParseStatus::need_more;
    }
    std::string_view head = buffered.substr(0, end + 4);
    if (head.size() > limits_.max_header_bytes)
        return fail(target_too_long(head) ? HeadError::target_too_long
                                          : HeadError::header_too_large);
    if (const HeadError e = read_head(head); e != HeadError::none) return fail(e);
    head_done_ = true;
    head_bytes_ = text_bytes_ = head.size();
    return ParseStatus::done;
}

bhttp::field field_id(std::string_view name) noexcept {
    using bhttp::field;
    auto is = [name](std::string_view lower) { return iequals(name, lower); };
    switch (name.size()) {
        case 2:
            return is("te") ? field::te : field::unknown;
        case 3:
            return is("via") ? field::via : field::unknown;
        case 4:
            return is("host") ? field::host : is("date") ? field::date : field::unknown;
        case 6:
            return is("cookie") ? field::cookie : is("expect") ? field::expect : field::unknown;
        case 7:
            return is("upgrade") ? field::upgrade : is("trailer") ? field::trailer : field::unknown;
        case 9:
            return is("forwarded") ? field::forwarded : field::unknown;
        case 10:
            return is("connection")   ? field::connection
                   : is("keep-alive") ? field::keep_alive
                                      : field::unknown;
        case 12:
            return is("max-forwards") ? field::max_forwards : field::unknown;
        case 13:
            return is("authorization") ? field::authorization : field::unknown;
        case 14:
            return is("content-length")   ? field::content_length
                   : is("http2-settings") ? field::http2_settings
                                          : field::unknown;
        case 16:
            return is("proxy-connection") ? field::proxy_connection : field::unknown;
        case 17:
            return is("transfer-encoding") ? field::transfer_encoding : field::unknown;
        case 19:
            return is("proxy-authorization") ? field::proxy_authorization : field::unknown;
        default:
            return field::unknown;
    }
}

template <bool isRequest>
ParseStatus HeadParser<isRequest>::assign(std::string_view method, std::string_view target,
                                          std::span<const HeaderField> fields) {
    // The size as text: "METHOD target HTTP/1.1\r\n", "name: value\r\n"
    // per field, the empty line.
    std::size_t bytes = method.size() + target.size() + 12 + 2;
    for (const auto& f : fields)
        bytes += f.name.size() + f.value.size() + 4;
    text_bytes_ = bytes;
    if (const HeadError e = check_method(method); e != HeadError::none) return fail(e);
    if (const HeadError e = check_target(target); e != HeadError::none) return fail(e);
    // parse() refuses a head over the limit as 414 when its target is too
    // long, else 431; then a long target within it as 414.
    if (limits_.max_target_bytes > 0 && target.size() > limits_.max_target_bytes)
        return fail(HeadError::target_too_long);
    if (bytes > limits_.max_header_bytes) return fail(HeadError::header_too_large);
    for (const auto& f : fields) {
        if (!is_valid_field_name(f.name) || !is_valid_field_value(f.value))
            return fail(HeadError::bad_field);
        if (fields_.size() >= limits_.max_fields) return fail(HeadError::header_too_large);
        fields_.push_back(HeaderField{field_id(f.name), f.name, f.value});
    }
    method_ = bhttp::string_to_verb(method);
    method_string_ = method;
    target_ = target;
    version_ = 11;
    head_bytes_ = 0;
    head_done_ = true;
    return ParseStatus::done;
}

template <bool isRequest>
HeadError HeadParser<isRequest>::read_start_line(std::string_view line) {
    if constexpr (isRequest) {
        // check_request_line accepted it: method SP target SP HTTP/1.x.
        const std::size_t sp1 = line.find(' ');
        const std::size_t sp2 = line.rfind(' ');
        method_string_ = line.substr(0, sp1);
        method_ = bhttp::string_to_verb(method_string_);
        target_ = line.substr(sp1 + 1, sp2 - sp1 - 1);
        version_ = line.back() == '1' ? 11 : 10;
        if (limits_.max_target_bytes > 0 && target_.size() > limits_.max_target_bytes)
            return HeadError::target_too_long;
    } else {
        // status-line = HTTP-version SP 3DIGIT SP reason-phrase (RFC 9112 §4)
        auto digit = [](char c) { return c >= '0' && c <= '9'; };
        if (line.size() < 9 || !line.starts_with("HTTP/") || !digit(line[5]) || line[6] != '.' ||
            !digit(line[7]) || line[8] != ' ')
            return HeadError::bad_version;
        version_ = static_cast<unsigned>((line[5] - '0') * 10 + (line[7] - '0'));
        if (version_ != 10 && version_ != 11) return HeadError::bad_version;
        if (line.size() < 13 || !digit(line[9]) || !digit(line[10]) || !digit(line[11]) ||
            line[12] != ' ')
            return HeadError::malformed;
        status_ =
            static_cast<unsigned>((line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0'));
        reason_ = line.substr(13);
        // reason-phrase = *( HTAB / SP / VCHAR / obs-text )
        if (!is_valid_field_value(reason_)) return HeadError::malformed;
    }
    return HeadError::none;
}

template <bool isRequest>
HeadError HeadParser<isRequest>::read_head(std::string_view head) {
    // Too short to hold a version at all: malformed, not a wrong version.
    if (!isRequest && head.size() < 8) return HeadError::malformed;
    // The first CRLF ends the start line: a CR or LF inside it is refused by
    // its checks.
    const std::size_t eol = head.find("\r\n");
    if (const HeadError e = read_start_line(head.substr(0, eol)); e != HeadError::none) return e;
    // Every line ends at a CR before the final CRLF CRLF, so the scans below
    // stop inside the head without bounds checks.
    const char* p = head.data() + eol + 2;
    const char* const head_end = head.data() + head.size();
    FramingFieldCheck framing;
    while (*p != '\r') {
        // A line that starts with whitespace continues the one before
        // (obs-fold) or follows the start line; neither is passed on.
        if (is_ows(*p)) return HeadError::bad_field;
        const char* const name_begin = p;
        while (is_tchar(*p))
            ++p;
        if (*p != ':' || p == name_begin) return HeadError::malformed;
        const std::string_view name(name_begin, static_cast<std::size_t>(p - name_begin));
        ++p;
        while (is_ows(*p))
            ++p;
        const char* const value_begin = p;
        p += field_value_run({p, static_cast<std::size_t>(head_end - p)});
        if (*p != '\r' || p[1] != '\n') return HeadError::malformed;
        const std::string_view value =
            trim_ows({value_begin, static_cast<std::size_t>(p - value_begin)});
        p += 2;
        // Checked here, before this field's own checks, as Beast did.
        if (is_ows(*p)) return HeadError::bad_field;  // obs-fold
        const bhttp::field id = field_id(name);
        if (!framing.accepts(id, value)) return HeadError::malformed;
        if (fields_.size() >= limits_.max_fields) return HeadError::header_too_large;
        fields_.push_back(HeaderField{id, name, value});
    }
    // The empty line: the head ends with the first CRLF CRLF, so here.
    return p[1] == '\n' ? HeadError::none : HeadError::malformed;
}

template class HeadParser<true>;
template class HeadParser<false>;

}  // namespace switchyard::http
