// switchyard-load: what one request asks the echo upstream for, and how its
// response is checked (the echo contract: tools/echo/README.md).
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace switchyard::load {

// The kinds of request, as they appear in the slow log's last column.
enum class RequestClass { get, bytes, post, echo, slow };
std::string_view class_name(RequestClass c);

struct Plan {
    RequestClass cls = RequestClass::get;
    std::string target;
    std::string body;            // POST body
    std::uint64_t bytes = 0;     // bytes=N: the expected body length
    std::uint64_t delay_ms = 0;  // slow: the delay asked for
    std::uint64_t body_sum = 0;  // FNV-1a 64 of `body`
};

std::uint64_t fnv1a64(std::string_view data);

struct PlanOptions {
    unsigned post_percent = 0;
    unsigned bytes_percent = 25;
    unsigned slow_ms = 1500;
    std::string path_suffix;  // extra query parameter, may be empty
};

// Draws requests at random (one generator per loop, no shared state).
class RequestFactory {
  public:
    RequestFactory(const PlanOptions& options, std::uint64_t seed);

    Plan next(bool slow);

  private:
    std::string target(std::string params) const;

    const PlanOptions& options_;
    std::mt19937_64 rng_;
};

// Fills `req` for `plan` (method, target, Host, body with Content-Length,
// Connection: close unless keep_alive).
void build_request(const Plan& plan, std::string_view host, bool keep_alive,
                   boost::beast::http::request<boost::beast::http::string_body>& req);

// Checks a 2xx response against the echo contract: X-Echo-Name present,
// X-Echo-Body-Bytes and X-Echo-Body-Sum match what was sent, the body is what
// was asked for. Returns an empty string, or what is wrong.
std::string verify(const Plan& plan,
                   const boost::beast::http::response<boost::beast::http::string_body>& res);

}  // namespace switchyard::load
