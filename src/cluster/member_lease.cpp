#include "switchyard/cluster/member_lease.hpp"

namespace switchyard::cluster {

using std::chrono::milliseconds;

namespace {

// A keep-alive every third of the TTL: two may be lost before the lease ends.
milliseconds period(std::chrono::seconds ttl) {
    return std::chrono::duration_cast<milliseconds>(ttl) / 3;
}

// Without an answer, the next try comes a period later, never sooner than
// a second: an unreachable store is not hammered.
milliseconds retry_after(std::chrono::seconds ttl) {
    return std::max(milliseconds(1000), period(ttl));
}

}  // namespace

MemberLease::MemberLease(boost::asio::io_context& io, EtcdClient& client, std::string key,
                         std::chrono::seconds ttl)
    : client_(client), key_(std::move(key)), ttl_(ttl), timer_(io) {}

MemberLease::~MemberLease() {
    *alive_ = false;
    timer_.cancel();
}

void MemberLease::start(std::string value) {
    value_ = std::move(value);
    grant();
}

void MemberLease::update(std::string value) {
    value_ = std::move(value);
    if (lease_ != 0) write(false);
}

void MemberLease::stop() {
    timer_.cancel();
    if (lease_ != 0) client_.revoke(lease_, [](Parsed<ResponseHeader>) {});
    lease_ = 0;
    *alive_ = false;
}

void MemberLease::grant() {
    client_.grant(ttl_.count(), [this, alive = alive_](Parsed<LeaseGrantResult> r) {
        if (!*alive) return;
        if (!r) {
            set_reachable(false, r.error());
            schedule(retry_after(ttl_));
            return;
        }
        lease_ = r->id;
        write(true);
    });
}

// A put does not renew the lease: only the first write after a grant arms
// the keep-alives (an update must not push them back, or frequent updates
// would let the lease run out).
void MemberLease::write(bool first) {
    client_.put(key_, value_, lease_, [this, first, alive = alive_](Parsed<PutResult> r) {
        if (!*alive) return;
        set_reachable(r.ok(), r.ok() ? std::string() : r.error());
        if (first) schedule(r.ok() ? period(ttl_) : retry_after(ttl_));
    });
}

void MemberLease::schedule(milliseconds after) {
    timer_.expires_after(after);
    timer_.async_wait([this, alive = alive_](boost::system::error_code ec) {
        if (ec || !*alive) return;
        if (lease_ == 0)
            grant();
        else
            keepalive();
    });
}

void MemberLease::keepalive() {
    client_.keepalive(lease_, [this, alive = alive_](Parsed<LeaseKeepAliveResult> r) {
        if (!*alive) return;
        if (!r) {
            set_reachable(false, r.error());
            schedule(retry_after(ttl_));
            return;
        }
        set_reachable(true, {});
        if (r->ttl == 0) {
            // The lease is gone, and the key with it: start over.
            lease_ = 0;
            grant();
            return;
        }
        schedule(period(ttl_));
    });
}

void MemberLease::set_reachable(bool reachable, const std::string& why) {
    if (reported_ && reachable == reachable_) return;
    reported_ = true;
    reachable_ = reachable;
    if (on_reachable) on_reachable(reachable, why);
}

}  // namespace switchyard::cluster
