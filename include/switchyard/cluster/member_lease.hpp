// MemberLease: this member's key in the store, under its own lease
// (DESIGN.md "Fleet": `<prefix>/members/<member>`, kept under the member's
// lease so that a member that dies leaves the fleet by itself).
//
// The lease is kept alive every third of its TTL. A keep-alive that finds
// the lease gone (a partition longer than the TTL, a store restored from
// a backup) grants a new one and writes the key again. The store counts as
// unreachable as soon as a call gets no answer, and reachable again at the
// next answer: on_reachable reports each change, for the degraded mode.
// Runs on the control thread's io_context; `client` must outlive it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "switchyard/cluster/etcd_client.hpp"

namespace switchyard::cluster {

class MemberLease {
  public:
    MemberLease(boost::asio::io_context& io, EtcdClient& client, std::string key,
                std::chrono::seconds ttl);
    ~MemberLease();
    MemberLease(const MemberLease&) = delete;
    MemberLease& operator=(const MemberLease&) = delete;

    // Called with every change of reachability (true: the store answers),
    // and with why when it does not.
    std::function<void(bool reachable, const std::string& why)> on_reachable;

    // Grants the lease and writes `value` under the key; keeps it alive.
    void start(std::string value);
    // A new value for the key (applied generation, health, ...), written now.
    void update(std::string value);
    // Revokes the lease (the key goes at once) and stops.
    void stop();

    std::int64_t lease() const { return lease_; }
    bool reachable() const { return reachable_; }

  private:
    void grant();
    void write(bool first);
    void schedule(std::chrono::milliseconds after);
    void keepalive();
    void set_reachable(bool reachable, const std::string& why);

    EtcdClient& client_;
    std::string key_;
    std::chrono::seconds ttl_;
    std::string value_;
    std::int64_t lease_ = 0;
    bool reachable_ = false;
    bool reported_ = false;  // on_reachable was called at least once
    boost::asio::steady_timer timer_;
    // Handlers check it: the object may go while a call is out.
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace switchyard::cluster
