// BeastHeadParser: the head parser Switchyard used until stop 34, on Beast's
// basic_parser, kept as a reference. http::HeadParser now reads heads itself
// (Beast's parser spent about a tenth of a proxied request's instructions);
// fuzz_targets.hpp and the unit tests hold it to this one, so that it
// accepts and refuses the same heads and reports the same fields, except
// where HeadParser is deliberately stricter (documented in head_parser.hpp).
#pragma once

#include <boost/beast/http/basic_parser.hpp>
#include <string_view>
#include <vector>

#include "switchyard/http/field_rules.hpp"
#include "switchyard/http/head_parser.hpp"

namespace switchyard::fuzz {

template <bool isRequest>
class BeastHeadParser final : public http::bhttp::basic_parser<isRequest> {
    using Base = http::bhttp::basic_parser<isRequest>;
    using sv_t = boost::beast::string_view;
    using ec_t = boost::beast::error_code;
    static std::string_view sv(sv_t s) { return {s.data(), s.size()}; }

  public:
    using Limits = typename http::HeadParser<isRequest>::Limits;

    BeastHeadParser(const Limits& limits, std::vector<http::HeaderField>& fields)
        : limits_(limits), fields_(fields) {
        fields_.clear();
        this->eager(false);
        this->header_limit(static_cast<std::uint32_t>(limits.max_header_bytes + 4));
        this->body_limit(boost::none);
    }

    // The whole head at once, as HeadParser::parse hands it to Beast (the
    // checks HeadParser makes on a partial head are the same code in both).
    http::ParseStatus parse(std::string_view buffered) {
        if constexpr (isRequest) {
            const std::size_t eol = buffered.find("\r\n");
            if (eol != std::string_view::npos) {
                if (const auto e = http::check_request_line(buffered.substr(0, eol));
                    e != http::HeadError::none)
                    return fail(e);
            }
        }
        const auto end = buffered.find("\r\n\r\n");
        if (end == std::string_view::npos) return http::ParseStatus::need_more;
        const std::string_view head = buffered.substr(0, end + 4);
        if (head.size() > limits_.max_header_bytes) return fail(http::HeadError::header_too_large);
        head_begin_ = head.data();
        head_end_ = head.data() + head.size();
        ec_t ec;
        const std::size_t used = this->put(boost::asio::const_buffer(head.data(), head.size()), ec);
        if (ec || !head_done_) {
            if (error_ != http::HeadError::none) return http::ParseStatus::error;
            if (ec == http::bhttp::error::header_limit)
                return fail(http::HeadError::header_too_large);
            return fail(ec == http::bhttp::error::bad_version ? http::HeadError::bad_version
                                                              : http::HeadError::malformed);
        }
        head_bytes_ = used;
        return http::ParseStatus::done;
    }

    http::HeadError error() const { return error_; }
    std::size_t head_bytes() const { return head_bytes_; }
    http::bhttp::verb method() const { return method_; }
    std::string_view method_string() const { return method_string_; }
    std::string_view target() const { return target_; }
    unsigned status() const { return status_; }
    std::string_view reason() const { return reason_; }
    unsigned version() const { return version_; }
    const std::vector<http::HeaderField>& fields() const { return fields_; }

  private:
    http::ParseStatus fail(http::HeadError e) {
        error_ = e;
        return http::ParseStatus::error;
    }
    void on_request_impl(http::bhttp::verb method, sv_t method_str, sv_t target, int version,
                         ec_t& ec) override {
        method_ = method;
        method_string_ = sv(method_str);
        target_ = sv(target);
        if (version != 10 && version != 11) {
            error_ = http::HeadError::bad_version;
            ec = http::bhttp::error::bad_version;
            return;
        }
        version_ = static_cast<unsigned>(version);
        if (limits_.max_target_bytes > 0 && target_.size() > limits_.max_target_bytes) {
            error_ = http::HeadError::target_too_long;
            ec = http::bhttp::error::bad_target;
        }
    }
    void on_response_impl(int code, sv_t reason, int version, ec_t& ec) override {
        if (version != 10 && version != 11) {
            error_ = http::HeadError::bad_version;
            ec = http::bhttp::error::bad_version;
            return;
        }
        status_ = static_cast<unsigned>(code);
        reason_ = sv(reason);
        version_ = static_cast<unsigned>(version);
    }
    void on_field_impl(http::bhttp::field name, sv_t name_string, sv_t value, ec_t& ec) override {
        const bool folded =
            !value.empty() && (value.data() < head_begin_ || value.data() >= head_end_);
        if (folded || !http::is_valid_field_name(sv(name_string)) ||
            !http::is_valid_field_value(sv(value))) {
            error_ = http::HeadError::bad_field;
            ec = http::bhttp::error::bad_value;
            return;
        }
        if (fields_.size() >= limits_.max_fields) {
            error_ = http::HeadError::header_too_large;
            ec = http::bhttp::error::header_limit;
            return;
        }
        // Ours names only the fields the proxy acts on: Beast's id of every
        // other one becomes unknown, so that field_id is held to Beast's.
        const bool acted_on = http::field_id(http::bhttp::to_string(name)) == name;
        fields_.push_back(http::HeaderField{acted_on ? name : http::bhttp::field::unknown,
                                            sv(name_string), sv(value)});
    }
    void on_header_impl(ec_t&) override { head_done_ = true; }
    void on_body_init_impl(const boost::optional<std::uint64_t>&, ec_t&) override {}
    std::size_t on_body_impl(sv_t, ec_t& ec) override {
        ec = http::bhttp::error::need_more;
        return 0;
    }
    void on_chunk_header_impl(std::uint64_t, sv_t, ec_t&) override {}
    std::size_t on_chunk_body_impl(std::uint64_t, sv_t, ec_t& ec) override {
        ec = http::bhttp::error::need_more;
        return 0;
    }
    void on_finish_impl(ec_t&) override {}

    Limits limits_;
    std::vector<http::HeaderField>& fields_;
    const char* head_begin_ = nullptr;
    const char* head_end_ = nullptr;
    http::HeadError error_ = http::HeadError::none;
    bool head_done_ = false;
    std::size_t head_bytes_ = 0;
    http::bhttp::verb method_ = http::bhttp::verb::unknown;
    std::string_view method_string_;
    std::string_view target_;
    unsigned status_ = 0;
    std::string_view reason_;
    unsigned version_ = 11;
};

}  // namespace switchyard::fuzz
