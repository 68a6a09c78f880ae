// EtcdTransport: JSON POSTs to etcd's HTTP/JSON gateway (etcd 3.4,
// `/v3/...`; DESIGN.md "Fleet"), on the control thread's io_context.
//
// One connection per call: the fleet's calls are rare (a command, a
// heartbeat seconds apart), and a fresh connection never meets one the
// server closed meanwhile (with TLS, a handshake per call: still rare).
// One deadline bounds each try (resolve, connect, TLS handshake, write,
// read). When a try fails below HTTP (refused, reset, timed out, a
// handshake refused), the next endpoint is tried, so a fleet keeps its
// store while one etcd member is down; an HTTP answer, an error status
// included, is the reply. The endpoint that answered last is tried first
// next time. The transport must outlive its calls.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "switchyard/core/http_url.hpp"
#include "switchyard/http/tls_context.hpp"

namespace switchyard::cluster {

// The largest response body read (a range of the state and the members).
inline constexpr std::size_t kEtcdBodyLimit = 16 * 1024 * 1024;

struct EtcdReply {
    int status = 0;        // 0: no HTTP answer from any endpoint (see error)
    std::string body;      // the response body (JSON)
    std::string error;     // no answer: the last endpoint's failure ("connection refused", ...)
    std::string endpoint;  // host:port of the endpoint that answered (or failed last)
};

class EtcdTransport {
  public:
    // `endpoints`: their host and port (the path is ignored). `tls`: the
    // client context of https endpoints; nullptr: plain http.
    EtcdTransport(boost::asio::io_context& io, std::vector<HttpUrl> endpoints,
                  std::chrono::milliseconds timeout,
                  std::shared_ptr<const http::UpstreamTlsContext> tls = nullptr);

    // POSTs `body` to `path` ("/v3/kv/range"); `done` runs once, on the
    // io_context (never inside post()).
    void post(std::string path, std::string body, std::function<void(EtcdReply)> done);

    // Sent as Authorization with every call (etcd auth); empty: none.
    void set_token(std::string token) { token_ = std::move(token); }
    const std::vector<HttpUrl>& endpoints() const { return endpoints_; }
    // The endpoint that answered last (an index of endpoints()).
    std::size_t preferred() const { return preferred_; }

  private:
    friend class EtcdCall;
    boost::asio::io_context& io_;
    std::vector<HttpUrl> endpoints_;
    std::chrono::milliseconds timeout_;
    std::shared_ptr<const http::UpstreamTlsContext> tls_;
    std::string token_;
    std::size_t preferred_ = 0;  // the endpoint that answered last
};

}  // namespace switchyard::cluster
