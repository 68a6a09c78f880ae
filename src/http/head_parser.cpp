#include "switchyard/http/head_parser.hpp"

#include "switchyard/http/field_rules.hpp"

namespace switchyard::http {

namespace {
namespace beast = boost::beast;

std::string_view sv(beast::string_view s) {
    return {s.data(), s.size()};
}
}  // namespace

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
    this->eager(false);
    // The size limit is enforced in parse(); Beast only ever sees a head that
    // is within it.
    this->header_limit(static_cast<std::uint32_t>(limits.max_header_bytes + 4));
    this->body_limit(boost::none);  // bodies are never parsed here
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
    head_begin_ = head.data();
    head_end_ = head.data() + head.size();
    beast::error_code ec;
    std::size_t used = this->put(boost::asio::const_buffer(head.data(), head.size()), ec);
    if (ec || !head_done_) {
        if (error_ != HeadError::none) return ParseStatus::error;
        if (ec == bhttp::error::header_limit) return fail(HeadError::header_too_large);
        return fail(ec == bhttp::error::bad_version ? HeadError::bad_version
                                                    : HeadError::malformed);
    }
    head_bytes_ = text_bytes_ = used;
    return ParseStatus::done;
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
        fields_.push_back(HeaderField{bhttp::string_to_field(f.name), f.name, f.value});
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
void HeadParser<isRequest>::on_request_impl(bhttp::verb method, beast::string_view method_str,
                                            beast::string_view target, int version,
                                            beast::error_code& ec) {
    method_ = method;
    method_string_ = sv(method_str);
    target_ = sv(target);
    if (version != 10 && version != 11) {
        error_ = HeadError::bad_version;
        ec = bhttp::error::bad_version;
        return;
    }
    version_ = static_cast<unsigned>(version);
    if (limits_.max_target_bytes > 0 && target_.size() > limits_.max_target_bytes) {
        error_ = HeadError::target_too_long;
        ec = bhttp::error::bad_target;
    }
}

template <bool isRequest>
void HeadParser<isRequest>::on_response_impl(int code, beast::string_view reason, int version,
                                             beast::error_code& ec) {
    if (version != 10 && version != 11) {
        error_ = HeadError::bad_version;
        ec = bhttp::error::bad_version;
        return;
    }
    status_ = static_cast<unsigned>(code);
    reason_ = sv(reason);
    version_ = static_cast<unsigned>(version);
}

template <bool isRequest>
void HeadParser<isRequest>::on_field_impl(bhttp::field name, beast::string_view name_string,
                                          beast::string_view value, beast::error_code& ec) {
    // Beast accepts obs-fold (handing over an unfolded copy, so the value is
    // not inside the head) and some control characters; an intermediary must
    // pass on neither (RFC 9112 §5.2, RFC 9110 §5.5).
    const bool folded = !value.empty() && (value.data() < head_begin_ || value.data() >= head_end_);
    if (folded || !is_valid_field_name(sv(name_string)) || !is_valid_field_value(sv(value))) {
        error_ = HeadError::bad_field;
        ec = bhttp::error::bad_value;
        return;
    }
    if (fields_.size() >= limits_.max_fields) {
        error_ = HeadError::header_too_large;
        ec = bhttp::error::header_limit;
        return;
    }
    fields_.push_back(HeaderField{name, sv(name_string), sv(value)});
}

template <bool isRequest>
void HeadParser<isRequest>::on_header_impl(beast::error_code&) {
    head_done_ = true;
}

template <bool isRequest>
void HeadParser<isRequest>::on_body_init_impl(const boost::optional<std::uint64_t>&,
                                              beast::error_code&) {}

template <bool isRequest>
std::size_t HeadParser<isRequest>::on_body_impl(beast::string_view, beast::error_code& ec) {
    ec = bhttp::error::need_more;  // unreachable with eager(false); never consume a body
    return 0;
}

template <bool isRequest>
void HeadParser<isRequest>::on_chunk_header_impl(std::uint64_t, beast::string_view,
                                                 beast::error_code&) {}

template <bool isRequest>
std::size_t HeadParser<isRequest>::on_chunk_body_impl(std::uint64_t, beast::string_view,
                                                      beast::error_code& ec) {
    ec = bhttp::error::need_more;
    return 0;
}

template <bool isRequest>
void HeadParser<isRequest>::on_finish_impl(beast::error_code&) {}

template class HeadParser<true>;
template class HeadParser<false>;

}  // namespace switchyard::http
