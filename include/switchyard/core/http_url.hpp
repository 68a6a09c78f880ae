// http:// and https:// URLs as written in switchyard.toml ([rollout]
// gate_url, [[rollout.webhooks]] url): checked once by the config layer and
// split here for whatever sends to them, so both agree on what a URL means.
//
// Standard library + POSIX (inet_pton) only, so that core stays free of Boost.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace switchyard {

struct HttpUrl {
    bool tls = false;        // https
    std::string host;        // a DNS name or IP literal (IPv6 without brackets)
    std::uint16_t port = 0;  // the URL's, or 80 / 443
    std::string target;      // path and query as sent in the request line; "/" when empty
    bool operator==(const HttpUrl&) const = default;
};

struct HttpUrlParse {
    HttpUrl url;
    std::string error;  // empty on success; else why, for a diagnostic
};

// "https://hooks.example.com/deploys?x=1", "http://[::1]:8080". The scheme
// (http or https, any case) and a host are required; the port is 1..65535.
// Refused: user:password@ (credentials in a URL end up in logs; a webhook
// authenticates with its secret), a fragment (never sent), and any character
// outside RFC 3986's path/query set (spaces, control bytes, non-ASCII; %XX
// escapes are fine).
HttpUrlParse parse_http_url(std::string_view text);

}  // namespace switchyard
