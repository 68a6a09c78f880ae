// EtcdWatch: one watch stream on etcd's gateway (`/v3/watch`; DESIGN.md
// "Fleet": every member watches `<prefix>/state` alone).
//
// The create request goes as the POST's body; the gateway answers with a
// chunked body of newline-delimited JSON messages ({"result":{...}}), the
// first with "created", then one per batch of events, for as long as the
// connection lives. Each message is handed on parsed. The stream ends (on_end,
// once, with why) when the server closes it, a message does not parse, a
// line passes the splitter's bound, or stop() is called; a message with
// "canceled" (a compaction: compact_revision) is handed on and the stream
// is then ended by the caller. Re-reading and watching again is the
// owner's job. Runs on the control thread's io_context.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "switchyard/cluster/etcd_responses.hpp"
#include "switchyard/core/http_url.hpp"
#include "switchyard/http/tls_context.hpp"

namespace switchyard::cluster {

class EtcdWatch : public std::enable_shared_from_this<EtcdWatch> {
  public:
    using OnMessage = std::function<void(const WatchMessage&)>;
    using OnEnd = std::function<void(std::string why)>;

    // `connect_timeout` bounds the connection, the TLS handshake and the
    // first answer (the response head); the stream itself has no deadline.
    // `tls`: the client context of an https endpoint; nullptr: plain.
    EtcdWatch(boost::asio::io_context& io, HttpUrl endpoint, std::string token,
              std::chrono::milliseconds connect_timeout,
              std::shared_ptr<const http::UpstreamTlsContext> tls = nullptr);
    ~EtcdWatch();

    // `create_body`: watch_create_body(...). The callbacks run on the io_context.
    void start(std::string create_body, OnMessage on_message, OnEnd on_end);
    // Ends the stream; on_end is not called after this.
    void stop();

  private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace switchyard::cluster
