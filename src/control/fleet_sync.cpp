#include "switchyard/control/fleet_sync.hpp"

#include <algorithm>

#include "switchyard/config/config_loader.hpp"
#include "switchyard/http/tls_context.hpp"

namespace switchyard::control {

namespace asio = boost::asio;
using std::chrono::milliseconds;

namespace {

constexpr milliseconds kFirstBackoff{100};
constexpr milliseconds kMaxBackoff{2000};

}  // namespace

bool etcd_options(const ClusterSettings& cluster, cluster::EtcdClientOptions& out,
                  std::string& error) {
    out.endpoints = cluster.etcd;
    out.timeout = milliseconds(2000);
    out.username = cluster.username;
    if (!cluster.password_file.empty()) {
        out.password = config::read_password_file(cluster.password_file, error);
        if (out.password.empty()) return false;
    }
    if (cluster.tls) {
        out.tls = http::build_upstream_tls(*cluster.tls, error);
        if (!out.tls) {
            error = "tls: " + error;
            return false;
        }
    }
    return true;
}

StoreRead read_store_now(const cluster::EtcdClientOptions& options, const std::string& key) {
    asio::io_context io;
    cluster::EtcdClient client(io, options);
    StoreRead out;
    out.error = "no answer";
    client.range(key, [&](cluster::Parsed<cluster::RangeResult> r) {
        if (!r) {
            out.error = r.error();
            return;
        }
        out.reachable = true;
        out.error.clear();
        out.store_revision = r->header.revision;
        if (!r->kvs.empty()) {
            out.found = true;
            out.value = r->kvs.front().value;
            out.mod_revision = r->kvs.front().mod_revision;
        }
    });
    io.run();  // the client bounds each try; the run ends with the call
    return out;
}

FleetSync::FleetSync(asio::io_context& io, cluster::EtcdClientOptions options,
                     const ClusterSettings& cluster, std::string member, FleetHost& host,
                     std::shared_ptr<spdlog::logger> log)
    : client_(io, std::move(options)),
      host_(host),
      log_(std::move(log)),
      state_key_(cluster.prefix + "/state"),
      members_prefix_(cluster.prefix + "/members/"),
      leader_key_(cluster.prefix + "/leader"),
      member_(std::move(member)),
      ttl_(std::chrono::duration_cast<std::chrono::seconds>(cluster.lease_ttl)),
      lease_(io, client_, members_prefix_ + member_, ttl_),
      retry_timer_(io),
      report_timer_(io) {
    // A lost lease or keep-alive is news about the store: re-read to know.
    lease_.on_reachable = [this](bool reachable, const std::string& why) {
        if (!reachable && reachable_) {
            set_reachable(false, why);
            reread_later();
        }
    };
}

FleetSync::~FleetSync() {
    *alive_ = false;
    if (watch_) watch_->stop();
}

void FleetSync::start(const StoreRead& first) {
    if (first.reachable) {
        watch_from(first.store_revision + 1);
    } else {
        set_reachable(false, first.error);
        reread_later();
    }
    // The first report waits for the io_context to run (the workers that
    // report in-flight requests exist by then).
    report_timer_.expires_after(milliseconds(0));
    report_timer_.async_wait([this, alive = alive_](boost::system::error_code ec) {
        if (ec || !*alive) return;
        host_.member_report([this, alive](MemberReport report) {
            if (!*alive) return;
            lease_.start(to_json(report));
            lease_started_ = true;
            schedule_report();
        });
    });
}

void FleetSync::stop(bool leave) {
    if (stopped_) return;
    stopped_ = true;
    *alive_ = false;
    retry_timer_.cancel();
    report_timer_.cancel();
    if (watch_) watch_->stop();
    watch_.reset();
    if (leave) lease_.stop();  // the member leaves the fleet at once
}

void FleetSync::reread() {
    if (watch_) watch_->stop();
    watch_.reset();
    client_.range(state_key_, [this, alive = alive_](cluster::Parsed<cluster::RangeResult> r) {
        if (!*alive) return;
        if (!r) {
            set_reachable(false, r.error());
            reread_later();
            return;
        }
        backoff_ = kFirstBackoff;
        set_reachable(true, {});
        if (r->kvs.empty())
            host_.store_state({}, 0, true);
        else
            host_.store_state(r->kvs.front().value, r->kvs.front().mod_revision, true);
        if (*alive && !watch_) watch_from(r->header.revision + 1);
    });
}

void FleetSync::reread_later() {
    retry_timer_.expires_after(backoff_);
    backoff_ = std::min(backoff_ * 2, kMaxBackoff);
    retry_timer_.async_wait([this, alive = alive_](boost::system::error_code ec) {
        if (!ec && *alive) reread();
    });
}

void FleetSync::watch_from(std::int64_t revision) {
    auto on_message = [this, alive = alive_](const cluster::WatchMessage& m) {
        if (!*alive) return;
        // Stopping the watch destroys this handler: what it needs after
        // that is on the stack.
        FleetSync* const self = this;
        if (m.error || m.canceled) {
            // A compaction passed the revision watched from: what changed
            // since is read whole, then watched again.
            if (m.compact_revision > 0)
                log_->warn("cluster: the store compacted revision {}; reading {} again",
                           m.compact_revision, state_key_);
            else
                log_->warn("cluster: watch of {} ended: {}", state_key_,
                           m.error ? m.error->message : m.cancel_reason);
            self->reread();  // stops this watch first
            return;
        }
        for (const auto& e : m.events) {
            if (e.kv.key != state_key_) continue;
            host_.store_state(e.type == cluster::WatchEvent::Type::put ? e.kv.value : std::string(),
                              e.type == cluster::WatchEvent::Type::put ? e.kv.mod_revision : 0,
                              false);
            if (!*alive) return;
        }
    };
    auto on_end = [this, alive = alive_](std::string why) {
        if (!*alive) return;
        log_->info("cluster: watch of {} ended ({}); reading it again", state_key_, why);
        FleetSync* const self = this;  // resetting the watch destroys this handler
        self->watch_.reset();
        self->reread_later();
    };
    watch_ = client_.watch(state_key_, revision, std::move(on_message), std::move(on_end));
}

void FleetSync::set_reachable(bool reachable, const std::string& why) {
    if (reachable == reachable_) {
        if (!reachable) why_ = why;
        return;
    }
    reachable_ = reachable;
    why_ = why;
    if (!reachable) {
        since_ = std::chrono::system_clock::now();
        log_->error(
            "cluster: store unreachable ({}); serving the last applied state, "
            "refusing changes but an emergency stop",
            why);
    } else {
        log_->info("cluster: store reachable again");
    }
    host_.store_reachable(reachable, why);
}

void FleetSync::write(std::string value, std::int64_t expected,
                      std::function<void(StoreWrite)> done) {
    client_.put_if(
        state_key_, std::move(value), expected, 0,
        [this, alive = alive_, done = std::move(done)](cluster::Parsed<cluster::TxnResult> r) {
            StoreWrite out;
            if (!r) {
                out.error = r.error();
                if (*alive) {
                    set_reachable(false, r.error());
                    reread_later();
                }
                return done(std::move(out));
            }
            if (r->succeeded) {
                out.result = StoreWrite::Result::written;
                out.revision = r->header.revision;
            } else {
                out.result = StoreWrite::Result::conflict;
                if (!r->kvs.empty()) {
                    out.current = r->kvs.front().value;
                    out.current_revision = r->kvs.front().mod_revision;
                }
            }
            done(std::move(out));
        });
}

void FleetSync::members(std::function<void(bool, std::vector<MemberReport>, std::string)> done) {
    client_.range_prefix(members_prefix_, [this, alive = alive_, done = std::move(done)](
                                              cluster::Parsed<cluster::RangeResult> r) {
        if (!r) return done(false, {}, r.error());
        std::vector<MemberReport> out;
        for (const auto& kv : r->kvs) {
            std::string error;
            if (auto report = parse_member_report(kv.value, error))
                out.push_back(std::move(*report));
            else if (*alive)
                log_->warn("cluster: member key {} is unreadable: {}", kv.key, error);
        }
        done(true, std::move(out), {});
    });
}

void FleetSync::report() {
    if (!lease_started_) return;
    host_.member_report([this, alive = alive_](MemberReport r) {
        if (*alive) lease_.update(to_json(r));
    });
}

// The report's in-flight and health figures age: rewritten every half TTL
// (the lease's keep-alives run on their own).
void FleetSync::schedule_report() {
    const milliseconds normal = std::max(milliseconds(1000), milliseconds(ttl_) / 2);
    report_timer_.expires_after(std::min(normal, host_.report_period(normal)));
    report_timer_.async_wait([this, alive = alive_](boost::system::error_code ec) {
        if (ec || !*alive) return;
        report();
        campaign();
        schedule_report();
    });
}

void FleetSync::campaign() {
    if (lease_.lease() == 0 || !reachable_) return;
    const std::int64_t lease = lease_.lease();
    client_.create_if_absent(leader_key_, member_, lease,
                             [this, lease, alive = alive_](cluster::Parsed<cluster::TxnResult> r) {
                                 if (!*alive || !r)
                                     return;  // unreachable: the last known holder stands
                                 std::string holder;
                                 bool ours = false;
                                 if (r->succeeded) {
                                     holder = member_;
                                     ours = true;
                                 } else if (!r->kvs.empty()) {
                                     holder = r->kvs.front().value;
                                     ours = holder == member_ && r->kvs.front().lease == lease;
                                 }
                                 if (holder == leader_ && ours == leading_) return;
                                 if (ours)
                                     log_->info("cluster: this member leads the fleet's ramp");
                                 leader_ = holder;
                                 leading_ = ours;
                                 host_.leadership(ours, holder);
                             });
}

}  // namespace switchyard::control
