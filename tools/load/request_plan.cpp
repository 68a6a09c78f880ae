#include "request_plan.hpp"

#include <charconv>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

namespace switchyard::load {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr std::uint64_t kFnvPrime = 0x100000001b3ULL;
constexpr std::uint64_t kMaxPostBody = 64 * 1024;
constexpr std::uint64_t kMaxBytes = 128 * 1024;

std::string hex16(std::uint64_t v) {
    std::string s(16, '0');
    for (int i = 15; i >= 0; --i) {
        s[static_cast<std::size_t>(i)] = "0123456789abcdef"[v & 0xf];
        v >>= 4;
    }
    return s;
}

std::string_view field(const http::response<http::string_body>& res, std::string_view name) {
    auto it = res.find(beast::string_view(name.data(), name.size()));
    if (it == res.end()) return {};
    auto v = it->value();
    return {v.data(), v.size()};
}

bool pattern_ok(std::string_view body) {
    for (std::size_t i = 0; i < body.size(); ++i)
        if (body[i] != static_cast<char>('a' + i % 26)) return false;
    return true;
}

}  // namespace

std::string_view class_name(RequestClass c) {
    switch (c) {
        case RequestClass::get:
            return "get";
        case RequestClass::bytes:
            return "bytes";
        case RequestClass::post:
            return "post";
        case RequestClass::echo:
            return "echo";
        case RequestClass::slow:
            return "slow";
    }
    return "?";
}

std::uint64_t fnv1a64(std::string_view data) {
    std::uint64_t h = kFnvOffset;
    for (unsigned char c : data) {
        h ^= c;
        h *= kFnvPrime;
    }
    return h;
}

RequestFactory::RequestFactory(const PlanOptions& options, std::uint64_t seed)
    : options_(options), rng_(seed) {}

std::string RequestFactory::target(std::string params) const {
    if (!options_.path_suffix.empty()) {
        if (!params.empty()) params.push_back('&');
        params.append(options_.path_suffix);
    }
    return params.empty() ? "/" : "/?" + params;
}

Plan RequestFactory::next(bool slow) {
    Plan p;
    if (slow) {
        p.cls = RequestClass::slow;
        p.delay_ms = options_.slow_ms;
        p.target = target("delay_ms=" + std::to_string(options_.slow_ms));
        p.body_sum = kFnvOffset;
        return p;
    }
    std::uniform_int_distribution<unsigned> percent(0, 99);
    if (percent(rng_) < options_.post_percent) {
        // A random body; one POST in four asks for it back (echo=body).
        std::uniform_int_distribution<std::uint64_t> size(1, kMaxPostBody);
        p.body.resize(size(rng_));
        for (std::size_t i = 0; i < p.body.size(); i += 8) {
            std::uint64_t r = rng_();
            for (std::size_t j = i; j < i + 8 && j < p.body.size(); ++j, r >>= 8)
                p.body[j] = static_cast<char>(r & 0xff);
        }
        p.body_sum = fnv1a64(p.body);
        p.cls = percent(rng_) < 25 ? RequestClass::echo : RequestClass::post;
        p.target = target(p.cls == RequestClass::echo ? "echo=body" : "");
        return p;
    }
    p.body_sum = kFnvOffset;
    if (percent(rng_) < options_.bytes_percent) {
        std::uniform_int_distribution<std::uint64_t> size(1, kMaxBytes);
        p.cls = RequestClass::bytes;
        p.bytes = size(rng_);
        p.target = target("bytes=" + std::to_string(p.bytes));
        return p;
    }
    p.cls = RequestClass::get;
    p.target = target("");
    return p;
}

void build_request(const Plan& plan, std::string_view host, bool keep_alive,
                   http::request<http::string_body>& req) {
    req = {};
    const bool post = plan.cls == RequestClass::post || plan.cls == RequestClass::echo;
    req.method(post ? http::verb::post : http::verb::get);
    req.target(plan.target);
    req.version(11);
    req.set(http::field::host, beast::string_view(host.data(), host.size()));
    req.set(http::field::user_agent, "switchyard-load");
    if (post) {
        req.set(http::field::content_type, "application/octet-stream");
        req.body() = plan.body;
        req.prepare_payload();
    }
    req.keep_alive(keep_alive);
}

std::string verify(const Plan& plan, const http::response<http::string_body>& res) {
    const auto name = field(res, "X-Echo-Name");
    if (name.empty()) return "no X-Echo-Name";
    std::uint64_t got_bytes = 0;
    const auto bytes_text = field(res, "X-Echo-Body-Bytes");
    auto [end, ec] =
        std::from_chars(bytes_text.data(), bytes_text.data() + bytes_text.size(), got_bytes);
    if (bytes_text.empty() || ec != std::errc{} || end != bytes_text.data() + bytes_text.size())
        return "missing or bad X-Echo-Body-Bytes";
    if (got_bytes != plan.body.size()) return "X-Echo-Body-Bytes differs from the body sent";
    if (field(res, "X-Echo-Body-Sum") != hex16(plan.body_sum)) return "X-Echo-Body-Sum mismatch";

    const std::string& body = res.body();
    switch (plan.cls) {
        case RequestClass::bytes:
            if (body.size() != plan.bytes) return "bytes=N body of another length";
            if (!pattern_ok(body)) return "bytes=N pattern mismatch";
            break;
        case RequestClass::echo:
            if (body != plan.body) return "echo=body mismatch";
            break;
        default:  // the default body: NAME\n
            if (body.size() != name.size() + 1 || body.compare(0, name.size(), name) != 0 ||
                body.back() != '\n')
                return "default body is not X-Echo-Name + LF";
            break;
    }
    return {};
}

}  // namespace switchyard::load
