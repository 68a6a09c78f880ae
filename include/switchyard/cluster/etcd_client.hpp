// EtcdClient: the etcd operations the fleet needs (DESIGN.md "Fleet"),
// typed, over EtcdTransport (posts with failover) and the gateway codec.
//
// Every callback gets a Parsed<T>: the answer, or one sentence saying why
// not (no endpoint answered, the gateway's error, a body that does not
// parse). With a user name, the client authenticates before its first call
// and again when etcd says the token is no longer valid (it expires; a
// restarted etcd forgets it), then retries that call once. Runs on the
// control thread's io_context; the client must outlive its calls.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "switchyard/cluster/etcd_responses.hpp"
#include "switchyard/cluster/etcd_transport.hpp"
#include "switchyard/cluster/etcd_watch.hpp"
#include "switchyard/core/http_url.hpp"

namespace switchyard::cluster {

struct EtcdClientOptions {
    std::vector<HttpUrl> endpoints;
    std::chrono::milliseconds timeout{3000};  // per try of a call
    std::string username;                     // empty: no authentication
    std::string password;
    // https endpoints: the client context (http::build_upstream_tls);
    // nullptr: plain http.
    std::shared_ptr<const http::UpstreamTlsContext> tls{};
};

class EtcdClient {
  public:
    template <typename T>
    using Done = std::function<void(Parsed<T>)>;

    EtcdClient(boost::asio::io_context& io, EtcdClientOptions options);

    void range(std::string key, Done<RangeResult> done);
    // Every key that starts with `prefix`.
    void range_prefix(std::string prefix, Done<RangeResult> done);
    void put(std::string key, std::string value, std::int64_t lease, Done<PutResult> done);
    // Puts `value` only if the key's mod_revision is `expected` (0: only if
    // the key does not exist); else the txn fails and carries the key as
    // it is (TxnResult::kvs).
    void put_if(std::string key, std::string value, std::int64_t expected, std::int64_t lease,
                Done<TxnResult> done);
    void create_if_absent(std::string key, std::string value, std::int64_t lease,
                          Done<TxnResult> done);
    void grant(std::int64_t ttl_seconds, Done<LeaseGrantResult> done);
    // One keep-alive; ttl 0 in the answer: the lease is gone.
    void keepalive(std::int64_t lease, Done<LeaseKeepAliveResult> done);
    void revoke(std::int64_t lease, Done<ResponseHeader> done);

    // Starts a watch of `key` from `start_revision` (0: from now) on the
    // endpoint that answered last, with the current token.
    std::shared_ptr<EtcdWatch> watch(const std::string& key, std::int64_t start_revision,
                                     EtcdWatch::OnMessage on_message, EtcdWatch::OnEnd on_end);

  private:
    template <typename T>
    void call(std::string path, std::string body, Parsed<T> (*parse)(std::string_view),
              Done<T> done, bool retried = false);
    void authenticate(std::function<void(std::string error)> done);

    boost::asio::io_context& io_;
    EtcdClientOptions options_;
    EtcdTransport transport_;
    std::string token_;
};

}  // namespace switchyard::cluster
