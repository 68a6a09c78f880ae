// FleetSync: a member's link to the fleet's store (DESIGN.md "Fleet"): it
// keeps `<prefix>/state` watched and hands every new state to its host,
// writes mutations as compare-and-swap on that key's revision, and keeps
// `<prefix>/members/<member>` under the member's lease. Every member
// campaigns for `<prefix>/leader` (created only if absent, under its lease)
// each report period: the holder runs the fleet's ramp; when it dies, its
// lease ends, the key goes, and the next campaign elects another.
//
// The state key alone is watched (members' keys are read on demand: N
// members watching each other's heartbeats would be N² events). A watch
// that ends, or a compaction that cancels it, leads to a re-read and a new
// watch from the read's revision + 1, so no change is missed. The store is
// unreachable from the first call that gets no answer until a re-read
// succeeds; re-reads are retried with a backoff (100 ms doubling to 2 s).
// Runs on the control thread's io_context.
#pragma once

#include <spdlog/logger.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "switchyard/cluster/etcd_client.hpp"
#include "switchyard/cluster/member_lease.hpp"
#include "switchyard/control/fleet_member.hpp"
#include "switchyard/core/settings.hpp"

namespace switchyard::control {

// What the store held when the process started (read before the workers
// serve, so that a member serves the fleet's state from its first request).
struct StoreRead {
    bool reachable = false;
    std::string error;                // !reachable: why
    bool found = false;               // the state key exists
    std::string value;                // its value
    std::int64_t mod_revision = 0;    // its revision
    std::int64_t store_revision = 0;  // the store's revision at the read
};

// The client options [cluster] gives (endpoints, credentials, TLS), or an
// error (the password file cannot be read, a TLS file is unusable).
bool etcd_options(const ClusterSettings& cluster, cluster::EtcdClientOptions& out,
                  std::string& error);

// Blocks up to about `options.timeout` per endpoint: start-up only.
StoreRead read_store_now(const cluster::EtcdClientOptions& options, const std::string& key);

class FleetHost {
  public:
    // The state key's value at `mod_revision` (empty: the key is absent),
    // from a re-read (`reread`: after a start, a broken watch or an outage)
    // or from the watch.
    virtual void store_state(const std::string& value, std::int64_t mod_revision, bool reread) = 0;
    // Every change of reachability, with why when unreachable.
    virtual void store_reachable(bool reachable, const std::string& why) = 0;
    // This member's report, for its key.
    virtual void member_report(std::function<void(MemberReport)> done) = 0;
    // Who holds the ramp's leadership (`<prefix>/leader`), at each change;
    // `ours`: this member.
    virtual void leadership(bool ours, const std::string& holder) = 0;
    // How often the report is rewritten: `normal`, or more often while the
    // leader needs this member's counts.
    virtual std::chrono::milliseconds report_period(std::chrono::milliseconds normal) const {
        return normal;
    }

  protected:
    ~FleetHost() = default;
};

struct StoreWrite {
    enum class Result { written, conflict, failed };
    Result result = Result::failed;
    std::int64_t revision = 0;  // written: the write's revision
    // conflict: what the key holds now (empty: absent) and its revision.
    std::string current;
    std::int64_t current_revision = 0;
    std::string error;  // failed: why
};

class FleetSync {
  public:
    FleetSync(boost::asio::io_context& io, cluster::EtcdClientOptions options,
              const ClusterSettings& cluster, std::string member, FleetHost& host,
              std::shared_ptr<spdlog::logger> log);
    ~FleetSync();
    FleetSync(const FleetSync&) = delete;
    FleetSync& operator=(const FleetSync&) = delete;

    // Watches from `first.store_revision + 1` when the start-up read
    // answered, else re-reads first; takes the member key and its lease.
    void start(const StoreRead& first);
    // `leave`: revoke the lease, so the member's key goes at once (not
    // after a hot upgrade: the successor holds the same key now).
    void stop(bool leave = true);

    // Writes `value` iff the key's revision is `expected` (0: absent).
    void write(std::string value, std::int64_t expected, std::function<void(StoreWrite)> done);
    // Every member's report (unreadable ones are logged and left out).
    void members(std::function<void(bool ok, std::vector<MemberReport>, std::string error)> done);
    // Rewrites this member's key now (after an apply).
    void report();

    bool reachable() const { return reachable_; }
    bool leading() const { return leading_; }
    const std::string& leader() const { return leader_; }  // empty: none known
    const std::string& unreachable_why() const { return why_; }
    std::chrono::system_clock::time_point unreachable_since() const { return since_; }
    const std::string& state_key() const { return state_key_; }
    const std::string& member() const { return member_; }

  private:
    void reread();
    void reread_later();
    void watch_from(std::int64_t revision);
    void set_reachable(bool reachable, const std::string& why);
    void schedule_report();
    // Takes `<prefix>/leader` under this member's lease if nobody holds it.
    void campaign();

    cluster::EtcdClient client_;
    FleetHost& host_;
    std::shared_ptr<spdlog::logger> log_;
    std::string state_key_;
    std::string members_prefix_;
    std::string leader_key_;
    std::string leader_;
    bool leading_ = false;
    std::string member_;
    std::chrono::seconds ttl_;
    cluster::MemberLease lease_;
    std::shared_ptr<cluster::EtcdWatch> watch_;
    boost::asio::steady_timer retry_timer_;
    boost::asio::steady_timer report_timer_;
    std::chrono::milliseconds backoff_{100};
    bool reachable_ = true;
    bool lease_started_ = false;
    bool stopped_ = false;
    std::string why_;
    std::chrono::system_clock::time_point since_{};
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace switchyard::control
