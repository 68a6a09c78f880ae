// Reads through DrainAwareBuffer on real loopback sockets: after a short read
// the next read waits for readiness instead of trying, so what matters is
// that it never misses data or an end: bytes that arrive before the next
// read starts, after it, a full buffer with more queued, EOF and reset.
#include "switchyard/http/drain_aware_buffer.hpp"

#include "switchyard/http/stream.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <optional>
#include <string>

namespace switchyard::http {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

class DrainAwareBufferTest : public ::testing::Test {
  protected:
    void SetUp() override {
        tcp::acceptor acceptor(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        reader_.connect(acceptor.local_endpoint());
        acceptor.accept(writer_);
    }

    struct Result {
        boost::system::error_code ec;
        std::string bytes;
    };

    // Starts one read of up to `size` bytes through the buffer.
    void start_read(std::size_t size) {
        result_.reset();
        storage_.assign(size, '\0');
        reader_.async_read_some(DrainAwareBuffer{asio::buffer(storage_)},
                                [this](boost::system::error_code ec, std::size_t n) {
                                    result_ = Result{ec, storage_.substr(0, n)};
                                });
    }

    // Runs the reactor until the read completed, or 5 s.
    std::optional<Result> finish() {
        const auto deadline = std::chrono::steady_clock::now() + 5s;
        while (!result_ && std::chrono::steady_clock::now() < deadline) {
            io_.restart();
            io_.run_for(5ms);
        }
        return result_;
    }

    // Runs the reactor for a moment without expecting anything (lets it see
    // readiness that arrived while no read was pending).
    void spin() {
        io_.restart();
        io_.poll();
    }

    void send(std::string_view bytes) { asio::write(writer_, asio::buffer(bytes)); }

    asio::io_context io_;
    tcp::socket reader_{io_};
    tcp::socket writer_{io_};
    std::string storage_;
    std::optional<Result> result_;
};

TEST_F(DrainAwareBufferTest, DataAfterAShortReadIsStillRead) {
    send("first");
    start_read(1024);
    auto r = finish();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->bytes, "first");  // short: the socket is now taken as drained

    start_read(1024);  // nothing queued: waits for readiness
    spin();
    EXPECT_FALSE(result_);
    send("second");
    r = finish();
    ASSERT_TRUE(r) << "the arrival after a short read was missed";
    EXPECT_FALSE(r->ec);
    EXPECT_EQ(r->bytes, "second");
}

TEST_F(DrainAwareBufferTest, DataThatArrivedBeforeTheNextReadStartedIsRead) {
    send("a");
    start_read(64);
    ASSERT_TRUE(finish());
    send("b");  // arrives while no read is pending
    spin();
    start_read(64);
    auto r = finish();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->bytes, "b");
    send("c");  // and again without letting the reactor run in between
    start_read(64);
    r = finish();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->bytes, "c");
}

TEST_F(DrainAwareBufferTest, AFullReadLeavesTheRestToTheNextOne) {
    send("0123456789");
    start_read(4);
    auto r = finish();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->bytes, "0123");
    std::string rest;
    while (rest.size() < 6) {
        start_read(4);
        r = finish();
        ASSERT_TRUE(r);
        ASSERT_FALSE(r->ec);
        rest += r->bytes;
    }
    EXPECT_EQ(rest, "456789");
}

TEST_F(DrainAwareBufferTest, EndOfStreamAfterAShortReadIsSeen) {
    send("last");
    start_read(64);
    ASSERT_TRUE(finish());
    writer_.shutdown(tcp::socket::shutdown_send);
    start_read(64);
    auto r = finish();
    ASSERT_TRUE(r) << "EOF after a short read was missed";
    EXPECT_EQ(r->ec, asio::error::eof);
}

TEST_F(DrainAwareBufferTest, ResetAfterAShortReadIsSeen) {
    send("x");
    start_read(64);
    ASSERT_TRUE(finish());
    start_read(64);
    spin();
    writer_.set_option(tcp::socket::linger(true, 0));
    writer_.close();  // RST
    auto r = finish();
    ASSERT_TRUE(r) << "the reset after a short read was missed";
    EXPECT_TRUE(r->ec);
}

// Through Stream: bytes and the FIN arrive together, so the reactor will
// not report the end again once the short read took the bytes. The next
// async_read_some must still see the end at once (its first recv()), not
// wait for readiness that never comes.
TEST_F(DrainAwareBufferTest, StreamSeesAnEndThatCameWithTheLastBytes) {
    Stream stream(std::move(reader_));
    send("tail");
    writer_.shutdown(tcp::socket::shutdown_send);
    std::string buf(64, '\0');
    auto read = [&] {
        result_.reset();
        stream.async_read_some(asio::buffer(buf),
                               [this, &buf](boost::system::error_code ec, std::size_t n) {
                                   result_ = Result{ec, buf.substr(0, n)};
                               });
        return finish();
    };
    auto r = read();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->bytes, "tail");
    r = read();
    ASSERT_TRUE(r) << "the end that came with the last bytes was missed";
    EXPECT_EQ(r->ec, asio::error::eof);
}

// The wait for a next message reads what comes after a short read.
TEST_F(DrainAwareBufferTest, StreamWaitsForTheNextMessage) {
    Stream stream(std::move(reader_));
    std::string buf(64, '\0');
    auto start = [&](bool next) {
        result_.reset();
        auto h = [this, &buf](boost::system::error_code ec, std::size_t n) {
            result_ = Result{ec, buf.substr(0, n)};
        };
        if (next)
            stream.async_read_next(asio::buffer(buf), h);
        else
            stream.async_read_some(asio::buffer(buf), h);
    };
    send("GET /1");
    start(false);
    ASSERT_TRUE(finish());
    start(true);
    spin();
    EXPECT_FALSE(result_);
    send("GET /2");
    auto r = finish();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->bytes, "GET /2");
}

// A ReadSpace that counts its loans, as a keep-alive session's idle read
// uses it: space only while bytes are there.
class CountingSpace final : public ReadSpace {
  public:
    asio::mutable_buffer lend() override {
        ++lent;
        if (storage.empty()) storage.assign(64, '\0');
        return asio::buffer(storage);
    }
    void unlend() override {
        ++given_back;
        storage.clear();
        storage.shrink_to_fit();
    }
    int lent = 0;
    int given_back = 0;
    std::string storage;
};

// An idle wait holds no space: after a short read, the next lent read lends
// nothing until bytes arrive, then reads them into the space it lent.
TEST_F(DrainAwareBufferTest, ALentReadTakesSpaceOnlyWhenBytesAreThere) {
    Stream stream(std::move(reader_));
#if defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
    // io_uring reads wait in the kernel with their buffer: nothing is lent,
    // and the sessions keep their own (what they check can_lend() for).
    EXPECT_FALSE(stream.can_lend());
    return;
#endif
    ASSERT_TRUE(stream.can_lend());
    CountingSpace space;
    auto start = [&] {
        result_.reset();
        stream.async_read_lent(space, 64,
                               [this, &space](boost::system::error_code ec, std::size_t n) {
                                   result_ = Result{ec, space.storage.substr(0, n)};
                               });
    };
    // The first read of a connection tries at once: nothing there, so the
    // space goes back and the read waits.
    start();
    spin();
    EXPECT_FALSE(result_);
    EXPECT_EQ(space.lent, 1);
    EXPECT_EQ(space.given_back, 1);
    EXPECT_TRUE(space.storage.empty());
    send("GET /1");
    auto r = finish();
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->ec);
    EXPECT_EQ(r->bytes, "GET /1");
    EXPECT_EQ(space.lent, 2);
    EXPECT_EQ(space.given_back, 1);  // kept: it holds the bytes

    // Short read: the next wait lends nothing until the next message.
    space.storage.clear();
    start();
    spin();
    EXPECT_FALSE(result_);
    EXPECT_EQ(space.lent, 2);
    send("GET /2");
    r = finish();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->bytes, "GET /2");
    EXPECT_EQ(space.lent, 3);

    // An end while waiting: the read completes with it.
    start();
    spin();
    writer_.close();
    r = finish();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->ec, asio::error::eof);
}

}  // namespace
}  // namespace switchyard::http
