#include "switchyard/cluster/etcd_client.hpp"

#include "switchyard/cluster/etcd_requests.hpp"

namespace switchyard::cluster {

namespace {

// etcd refuses a call for its token: expired, unknown after a restart, or
// none sent while auth is on.
bool token_refused(const GatewayError& e) {
    return e.code == grpc_code::unauthenticated || e.message == kInvalidAuthTokenMessage ||
           e.message == "etcdserver: user name is empty";
}

}  // namespace

EtcdClient::EtcdClient(boost::asio::io_context& io, EtcdClientOptions options)
    : io_(io),
      options_(std::move(options)),
      transport_(io, options_.endpoints, options_.timeout, options_.tls) {}

template <typename T>
void EtcdClient::call(std::string path, std::string body, Parsed<T> (*parse)(std::string_view),
                      Done<T> done, bool retried) {
    if (!options_.username.empty() && token_.empty() && !retried) {
        authenticate([this, path = std::move(path), body = std::move(body), parse,
                      done = std::move(done)](std::string error) mutable {
            if (!error.empty()) return done(Parsed<T>::failure(std::move(error)));
            call(std::move(path), std::move(body), parse, std::move(done), true);
        });
        return;
    }
    auto retry_body = retried ? std::string() : body;
    transport_.post(
        path, std::move(body),
        [this, path, retry_body = std::move(retry_body), parse, done = std::move(done),
         retried](EtcdReply reply) mutable {
            if (reply.status == 0) return done(Parsed<T>::failure(std::move(reply.error)));
            if (reply.status != 200) {
                const auto error = parse_error(reply.body);
                if (error && token_refused(*error) && !options_.username.empty() && !retried) {
                    token_.clear();
                    authenticate([this, path = std::move(path), body = std::move(retry_body), parse,
                                  done = std::move(done)](std::string e) mutable {
                        if (!e.empty()) return done(Parsed<T>::failure(std::move(e)));
                        call(std::move(path), std::move(body), parse, std::move(done), true);
                    });
                    return;
                }
                return done(Parsed<T>::failure(
                    error ? "etcd error " + std::to_string(error->code) + ": " + error->message
                          : "etcd answered HTTP " + std::to_string(reply.status)));
            }
            done(parse(reply.body));
        });
}

void EtcdClient::authenticate(std::function<void(std::string error)> done) {
    transport_.set_token({});
    transport_.post("/v3/auth/authenticate",
                    authenticate_body(options_.username, options_.password),
                    [this, done = std::move(done)](EtcdReply reply) {
                        if (reply.status == 0) return done(std::move(reply.error));
                        auto token = parse_authenticate(reply.body);
                        if (!token) return done("authenticating: " + token.error());
                        token_ = *token;
                        transport_.set_token(token_);
                        done({});
                    });
}

void EtcdClient::range(std::string key, Done<RangeResult> done) {
    call<RangeResult>("/v3/kv/range", range_body(key), &parse_range, std::move(done));
}

void EtcdClient::range_prefix(std::string prefix, Done<RangeResult> done) {
    call<RangeResult>("/v3/kv/range", range_body(prefix, prefix_range_end(prefix)), &parse_range,
                      std::move(done));
}

void EtcdClient::put(std::string key, std::string value, std::int64_t lease, Done<PutResult> done) {
    call<PutResult>("/v3/kv/put", put_body(key, value, lease), &parse_put, std::move(done));
}

void EtcdClient::put_if(std::string key, std::string value, std::int64_t expected,
                        std::int64_t lease, Done<TxnResult> done) {
    call<TxnResult>("/v3/kv/txn", txn_put_if_mod_revision_body(key, value, expected, lease),
                    &parse_txn, std::move(done));
}

void EtcdClient::create_if_absent(std::string key, std::string value, std::int64_t lease,
                                  Done<TxnResult> done) {
    call<TxnResult>("/v3/kv/txn", txn_create_if_absent_body(key, value, lease), &parse_txn,
                    std::move(done));
}

void EtcdClient::grant(std::int64_t ttl_seconds, Done<LeaseGrantResult> done) {
    call<LeaseGrantResult>("/v3/lease/grant", lease_grant_body(ttl_seconds), &parse_lease_grant,
                           std::move(done));
}

void EtcdClient::keepalive(std::int64_t lease, Done<LeaseKeepAliveResult> done) {
    call<LeaseKeepAliveResult>("/v3/lease/keepalive", lease_keepalive_body(lease),
                               &parse_lease_keepalive, std::move(done));
}

void EtcdClient::revoke(std::int64_t lease, Done<ResponseHeader> done) {
    call<ResponseHeader>("/v3/lease/revoke", lease_revoke_body(lease), &parse_lease_revoke,
                         std::move(done));
}

std::shared_ptr<EtcdWatch> EtcdClient::watch(const std::string& key, std::int64_t start_revision,
                                             EtcdWatch::OnMessage on_message,
                                             EtcdWatch::OnEnd on_end) {
    const auto& endpoints = transport_.endpoints();
    auto w = std::make_shared<EtcdWatch>(io_, endpoints[transport_.preferred() % endpoints.size()],
                                         token_, options_.timeout, options_.tls);
    w->start(watch_create_body(key, start_revision), std::move(on_message), std::move(on_end));
    return w;
}

}  // namespace switchyard::cluster
