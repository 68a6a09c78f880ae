// The pool with the worker's HangupWatch, on real loopback sockets: a
// connection the server closed is never handed out, found from readiness
// (no peek); a live one is handed out without a system call; the peek is
// still there for requests that could not be resent, and for connections
// nothing watches.
#include "switchyard/proxy/upstream_connection_pool.hpp"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <memory>

namespace switchyard::proxy {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

constexpr std::uint64_t kServer = 7;
constexpr auto kIdle = 60s;

class UpstreamConnectionPoolTest : public ::testing::Test {
  protected:
    // A connected pair: the proxy's side (to pool) and the server's.
    struct Pair {
        std::unique_ptr<UpstreamConnection> conn;
        tcp::socket server;
    };

    Pair connect() {
        auto conn = std::make_unique<UpstreamConnection>(io_.get_executor(), open_);
        conn->server_id = kServer;
        conn->stream.socket().connect(acceptor_.local_endpoint());
        tcp::socket server(io_);
        acceptor_.accept(server);
        return {std::move(conn), std::move(server)};
    }

    // Runs the reactor until `done` or 5 s.
    template <class Pred>
    bool run_until(Pred done) {
        const auto deadline = std::chrono::steady_clock::now() + 5s;
        while (!done()) {
            if (std::chrono::steady_clock::now() >= deadline) return false;
            io_.restart();
            io_.run_for(5ms);
        }
        return true;
    }

    asio::io_context io_;
    tcp::acceptor acceptor_{io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
    std::int64_t open_ = 0;
    HangupWatch watch_{io_};
    UpstreamConnectionPool pool_{&watch_};
};

TEST_F(UpstreamConnectionPoolTest, LiveConnectionIsHandedOutWithoutPeek) {
    watch_.start();
    auto p = connect();
    UpstreamConnection* raw = p.conn.get();
    pool_.put(std::move(p.conn), Clock::now());
    EXPECT_TRUE(raw->watch) << "registered when pooled";
    auto taken = pool_.take(kServer, Clock::now(), kIdle, false);
    EXPECT_EQ(taken.get(), raw);
    EXPECT_EQ(pool_.take(kServer, Clock::now(), kIdle, false), nullptr);
    watch_.stop();
}

TEST_F(UpstreamConnectionPoolTest, ConnectionTheServerClosedIsMarkedAndNotHandedOut) {
    watch_.start();
    auto p = connect();
    UpstreamConnection* raw = p.conn.get();
    pool_.put(std::move(p.conn), Clock::now());
    p.server.close();
    ASSERT_TRUE(run_until([&] { return raw->hung_up; }));
    EXPECT_EQ(pool_.take(kServer, Clock::now(), kIdle, false), nullptr);
    EXPECT_EQ(pool_.idle_count(), 0u);
    EXPECT_EQ(open_, 0) << "dropped, so closed";
    watch_.stop();
}

TEST_F(UpstreamConnectionPoolTest, ResetIsAHangUpToo) {
    watch_.start();
    auto p = connect();
    UpstreamConnection* raw = p.conn.get();
    pool_.put(std::move(p.conn), Clock::now());
    p.server.set_option(tcp::socket::linger(true, 0));  // close sends RST
    p.server.close();
    ASSERT_TRUE(run_until([&] { return raw->hung_up; }));
    pool_.sweep(Clock::now(), kIdle);  // the tick releases it before any reuse
    EXPECT_EQ(pool_.idle_count(), 0u);
    watch_.stop();
}

TEST_F(UpstreamConnectionPoolTest, ClosedWhileBusyIsNotPooled) {
    watch_.start();
    auto first = connect();
    UpstreamConnection* raw = first.conn.get();
    pool_.put(std::move(first.conn), Clock::now());  // registered
    auto busy = pool_.take(kServer, Clock::now(), kIdle, false);
    ASSERT_EQ(busy.get(), raw);
    first.server.close();
    ASSERT_TRUE(run_until([&] { return raw->hung_up; }));
    pool_.put(std::move(busy), Clock::now());
    EXPECT_EQ(pool_.idle_count(), 0u);
    watch_.stop();
}

TEST_F(UpstreamConnectionPoolTest, PeekCatchesBytesNobodyAskedFor) {
    // A server that writes on an idle connection without closing it: no
    // hang-up, so only the peek (asked for a request that could not be
    // resent) sees it.
    watch_.start();
    auto p = connect();
    pool_.put(std::move(p.conn), Clock::now());
    asio::write(p.server, asio::buffer(std::string_view("HTTP/1.1 408 Request Timeout\r\n\r\n")));
    EXPECT_EQ(pool_.take(kServer, Clock::now(), kIdle, true), nullptr);
    watch_.stop();
}

TEST_F(UpstreamConnectionPoolTest, UnwatchedConnectionsArePeeked) {
    UpstreamConnectionPool plain(nullptr);
    auto p = connect();
    UpstreamConnection* raw = p.conn.get();
    plain.put(std::move(p.conn), Clock::now());
    EXPECT_FALSE(raw->watch);
    p.server.close();
    ASSERT_TRUE(run_until([&] { return is_stale(raw->stream.socket()); }));
    EXPECT_EQ(plain.take(kServer, Clock::now(), kIdle, false), nullptr);
}

TEST_F(UpstreamConnectionPoolTest, ConnectionMayOutliveTheWatch) {
    // Sessions end with the io_context's handlers, after the worker (and its
    // watch): a connection's unregistration must not need the watch.
    std::unique_ptr<UpstreamConnection> kept;
    {
        HangupWatch watch(io_);
        UpstreamConnectionPool pool(&watch);
        auto p = connect();
        pool.put(std::move(p.conn), Clock::now());
        kept = pool.take(kServer, Clock::now(), kIdle, false);
        ASSERT_TRUE(kept);
    }
    EXPECT_TRUE(kept->watch);
    kept.reset();
    EXPECT_EQ(open_, 0);
}

}  // namespace
}  // namespace switchyard::proxy
