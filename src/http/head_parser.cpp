#include "switchyard/http/head_parser.hpp"

#include "switchyard/http/field_rules.hpp"

namespace switchyard::http {

namespace {
namespace beast = boost::beast;

std::string_view sv(beast::string_view s) { return {s.data(), s.size()}; }
}  // namespace

unsigned status_for(HeadError e) {
    switch (e) {
        case HeadError::none: return 0;
        case HeadError::malformed:
        case HeadError::bad_field: return 400;
        case HeadError::target_too_long: return 414;
        case HeadError::header_too_large: return 431;
        case HeadError::bad_version: return 505;
    }
    return 400;
}

template <bool isRequest>
HeadParser<isRequest>::HeadParser(const Limits& limits, std::vector<HeaderField>& fields)
    : limits_(limits), fields_(fields) {
    fields_.clear();
    this->eager(false);
    this->header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    this->body_limit(boost::none);  // bodies are never parsed here
}

template <bool isRequest>
const HeaderField* HeadParser<isRequest>::find(bhttp::field id) const {
    for (const auto& f : fields_)
        if (f.id == id) return &f;
    return nullptr;
}

template <bool isRequest>
ParseStatus HeadParser<isRequest>::parse(std::string_view buffered) {
    if (head_done_) return ParseStatus::done;
    beast::error_code ec;
    std::size_t used = this->put(boost::asio::const_buffer(buffered.data(), buffered.size()), ec);
    if (ec == bhttp::error::need_more) {
        // Beast looks for the end of the head before parsing the start line, so
        // an over-long target shows up as a head over the limit: tell them apart.
        if constexpr (isRequest) {
            if (limits_.max_target_bytes > 0) {
                auto first_sp = buffered.find(' ');
                auto line_end = buffered.find('\n');
                std::size_t target_len =
                    first_sp == std::string_view::npos
                        ? 0
                        : (line_end == std::string_view::npos ? buffered.size() : line_end) -
                              first_sp;
                if (target_len > limits_.max_target_bytes + sizeof(" HTTP/1.1\r")) {
                    error_ = HeadError::target_too_long;
                    return ParseStatus::error;
                }
            }
        }
        return ParseStatus::need_more;
    }
    if (ec == bhttp::error::header_limit) {
        if (error_ == HeadError::none) error_ = HeadError::header_too_large;
        if constexpr (isRequest) {
            auto first_sp = buffered.find(' ');
            auto line_end = buffered.find('\n');
            if (first_sp != std::string_view::npos &&
                (line_end == std::string_view::npos ||
                 line_end - first_sp > limits_.max_target_bytes))
                error_ = HeadError::target_too_long;
        }
        return ParseStatus::error;
    }
    if (ec) {
        if (error_ == HeadError::none)
            error_ = ec == bhttp::error::bad_version ? HeadError::bad_version : HeadError::malformed;
        return ParseStatus::error;
    }
    if (!head_done_) return ParseStatus::need_more;
    head_bytes_ = used;
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
    // Beast accepts obs-fold and some control characters inside values; an
    // intermediary must not pass either on (RFC 9112 §5.2, RFC 9110 §5.5).
    if (!is_valid_field_name(sv(name_string)) || !is_valid_field_value(sv(value))) {
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
