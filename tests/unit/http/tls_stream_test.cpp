// TlsStream over real loopback sockets, against itself and against Asio's
// ssl::stream (an independent implementation of the same contract). One
// io_context per test, run with a deadline.
#include "switchyard/http/tls_stream.hpp"

#include <gtest/gtest.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "switchyard/http/stream.hpp"
#include "test_pki.hpp"

namespace switchyard::http {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using boost::system::error_code;
using tcp = asio::ip::tcp;

class TlsStreamTest : public ::testing::Test {
  protected:
    TlsStreamTest() : server_ctx_(ssl::context::tls_server), client_ctx_(ssl::context::tls_client) {
        auto key = test_pki::make_key();
        auto cert = test_pki::make_cert({.cn = "localhost", .san = "DNS:localhost"}, key.get());
        test_pki::write_pem(dir_.file("cert.pem"), {cert.get()});
        test_pki::write_key(dir_.file("key.pem"), key.get());
        server_ctx_.use_certificate_chain_file(dir_.file("cert.pem"));
        server_ctx_.use_private_key_file(dir_.file("key.pem"), ssl::context::pem);
        client_ctx_.set_verify_mode(ssl::verify_none);
        acceptor_.open(tcp::v4());
        acceptor_.bind({asio::ip::make_address("127.0.0.1"), 0});
        acceptor_.listen();
    }

    // A connected pair: `server` accepted, `client` connected.
    void connect(tcp::socket& server, tcp::socket& client) {
        client.connect(acceptor_.local_endpoint());
        acceptor_.accept(server);
    }

    // Runs until `done` or 20 s; false on the deadline.
    template <class Done>
    bool run_until(Done done) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (!done() && std::chrono::steady_clock::now() < deadline) {
            io_.restart();
            io_.run_for(std::chrono::milliseconds(50));
        }
        return done();
    }

    // Connects `server` and `client` and runs both handshakes (with `client`
    // a TlsStream or an asio::ssl::stream); false if they did not succeed.
    template <class Client>
    bool handshake(Stream& server, Client& client) {
        int ok = 0, done = 0;
        auto count = [&](error_code ec) {
            EXPECT_FALSE(ec) << ec.message();
            ok += !ec;
            ++done;
        };
        server.async_handshake(ssl::stream_base::server, count);
        client.async_handshake(ssl::stream_base::client, count);
        return run_until([&] { return done == 2; }) && ok == 2;
    }
    bool tls_pair(Stream& server, Stream& client) {
        connect(server.socket(), client.socket());
        server.use_tls(server_ctx_);
        client.use_tls(client_ctx_);
        return handshake(server, client);
    }

    // What `client` wrote, read back through `server`.
    template <class Client>
    std::string send_through(Client& client, Stream& server, const std::string& text) {
        asio::write(client, asio::buffer(text));
        std::string got(text.size(), '\0');
        bool read = false;
        asio::async_read(server, asio::buffer(got), [&](error_code ec, std::size_t) {
            EXPECT_FALSE(ec) << ec.message();
            read = true;
        });
        return run_until([&] { return read; }) ? got : std::string();
    }

    static std::string pattern(std::size_t size, char seed) {
        std::string s(size, '\0');
        for (std::size_t i = 0; i < size; ++i)
            s[i] = static_cast<char>(seed + static_cast<char>(i % 251));
        return s;
    }

    test_pki::TempDir dir_;
    asio::io_context io_;
    ssl::context server_ctx_;
    ssl::context client_ctx_;
    tcp::acceptor acceptor_{io_};
};

TEST_F(TlsStreamTest, CarriesAMegabyteBothWaysAtOnce) {
    Stream server(io_.get_executor()), client(io_.get_executor());
    ASSERT_TRUE(tls_pair(server, client));

    // Both sides write more than the socket buffers hold while reading:
    // writes wait for writability, reads for readability, on one stream.
    const std::string to_client = pattern(1 << 20, 'a');
    const std::string to_server = pattern(1 << 20, 'A');
    std::string got_by_client(to_client.size(), '\0'), got_by_server(to_server.size(), '\0');
    int finished = 0;
    auto expect_all = [&](std::size_t want) {
        return [&finished, want](error_code ec, std::size_t n) {
            EXPECT_FALSE(ec) << ec.message();
            EXPECT_EQ(n, want);
            ++finished;
        };
    };
    asio::async_write(server, asio::buffer(to_client), expect_all(to_client.size()));
    asio::async_write(client, asio::buffer(to_server), expect_all(to_server.size()));
    asio::async_read(client, asio::buffer(got_by_client), expect_all(to_client.size()));
    asio::async_read(server, asio::buffer(got_by_server), expect_all(to_server.size()));
    ASSERT_TRUE(run_until([&] { return finished == 4; }));
    EXPECT_TRUE(got_by_client == to_client);
    EXPECT_TRUE(got_by_server == to_server);
}

TEST_F(TlsStreamTest, SmallBuffersAreGatheredIntoOneRecord) {
    Stream server(io_.get_executor()), client(io_.get_executor());
    ASSERT_TRUE(tls_pair(server, client));

    // A head, a short piece and a long body: the first write takes the two
    // short ones and the body's start, a whole record (16 KiB), as one.
    const std::string head = "HTTP/1.1 200 OK\r\n\r\n", piece = "0123456789";
    const std::string body = pattern(40000, 'x');
    const std::array<asio::const_buffer, 3> buffers{asio::buffer(head), asio::buffer(piece),
                                                    asio::buffer(body)};
    std::optional<std::size_t> first;
    server.async_write_some(buffers, [&](error_code ec, std::size_t n) {
        EXPECT_FALSE(ec) << ec.message();
        first = n;
    });
    ASSERT_TRUE(run_until([&] { return first.has_value(); }));
    EXPECT_EQ(*first, 16384u);

    // The rest as async_write sends it; the peer reads everything in order.
    const std::string all = head + piece + body;
    bool written = false, read = false;
    asio::async_write(server, asio::buffer(all.data() + *first, all.size() - *first),
                      [&](error_code ec, std::size_t) {
                          EXPECT_FALSE(ec) << ec.message();
                          written = true;
                      });
    std::string got(all.size(), '\0');
    asio::async_read(client, asio::buffer(got), [&](error_code ec, std::size_t) {
        EXPECT_FALSE(ec) << ec.message();
        read = true;
    });
    ASSERT_TRUE(run_until([&] { return written && read; }));
    EXPECT_TRUE(got == all);
}

TEST_F(TlsStreamTest, AnEndWithCloseNotifyIsEofAndWithoutItTruncated) {
    for (bool close_notify : {true, false}) {
        Stream server(io_.get_executor());
        ssl::stream<tcp::socket> client(io_, client_ctx_);
        connect(server.socket(), client.next_layer());
        server.use_tls(server_ctx_);
        ASSERT_TRUE(handshake(server, client));

        ASSERT_EQ(send_through(client, server, "hello"), "hello");

        std::optional<error_code> end;
        char byte = 0;
        server.async_read_some(asio::buffer(&byte, 1),
                               [&](error_code ec, std::size_t) { end = ec; });
        if (close_notify)
            client.async_shutdown([](error_code) {});
        else  // a FIN (closing would send RST: the client left the session tickets unread)
            client.next_layer().shutdown(tcp::socket::shutdown_send);
        ASSERT_TRUE(run_until([&] { return end.has_value(); }));
        if (close_notify)
            EXPECT_EQ(*end, asio::error::eof) << end->message();
        else
            EXPECT_EQ(*end, ssl::error::stream_truncated) << end->message();
        client.next_layer().close();
        io_.restart();
        io_.poll();
    }
}

TEST_F(TlsStreamTest, AHandshakeStartsWithBytesAlreadyRead) {
    Stream server(io_.get_executor());
    ssl::stream<tcp::socket> client(io_, client_ctx_);
    connect(server.socket(), client.next_layer());
    bool client_done = false;
    client.async_handshake(ssl::stream_base::client, [&](error_code ec) {
        EXPECT_FALSE(ec) << ec.message();
        client_done = true;
    });
    // The first 11 bytes of the ClientHello are read as a PROXY header
    // reader would, then handed to the handshake.
    char first[11];
    bool have_first = false;
    asio::async_read(server.socket(), asio::buffer(first), [&](error_code ec, std::size_t) {
        EXPECT_FALSE(ec) << ec.message();
        have_first = true;
    });
    ASSERT_TRUE(run_until([&] { return have_first; }));
    std::optional<std::size_t> used;
    server.use_tls(server_ctx_);
    server.async_handshake(ssl::stream_base::server, asio::buffer(first),
                           [&](error_code ec, std::size_t n) {
                               EXPECT_FALSE(ec) << ec.message();
                               used = n;
                           });
    ASSERT_TRUE(run_until([&] { return client_done && used.has_value(); }));
    EXPECT_EQ(*used, sizeof first);

    EXPECT_EQ(send_through(client, server, "after"), "after");
}

TEST_F(TlsStreamTest, ClosingTheSocketAbortsAPendingRead) {
    Stream server(io_.get_executor()), client(io_.get_executor());
    ASSERT_TRUE(tls_pair(server, client));
    std::optional<error_code> result;
    char byte = 0;
    server.async_read_some(asio::buffer(&byte, 1),
                           [&](error_code ec, std::size_t) { result = ec; });
    io_.restart();
    io_.poll();  // the read is waiting for the socket now
    EXPECT_FALSE(result.has_value());
    server.socket().close();
    ASSERT_TRUE(run_until([&] { return result.has_value(); }));
    EXPECT_EQ(*result, asio::error::operation_aborted);
}

TEST_F(TlsStreamTest, PlainHttpFailsTheHandshakeWithOpenSslsReason) {
    Stream server(io_.get_executor());
    tcp::socket client(io_);
    connect(server.socket(), client);
    asio::write(client, asio::buffer(std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n")));
    server.use_tls(server_ctx_);
    std::optional<error_code> result;
    server.async_handshake(ssl::stream_base::server, [&](error_code ec) { result = ec; });
    ASSERT_TRUE(run_until([&] { return result.has_value(); }));
    ASSERT_TRUE(*result);
    EXPECT_EQ(result->category(), asio::error::get_ssl_category()) << result->message();
}

TEST_F(TlsStreamTest, EmptyReadsAndWritesCompleteWithoutWaiting) {
    Stream server(io_.get_executor()), client(io_.get_executor());
    connect(server.socket(), client.socket());
    server.use_tls(server_ctx_);
    int completed = 0;
    bool inline_call = true;
    server.async_read_some(asio::mutable_buffer(), [&](error_code ec, std::size_t n) {
        EXPECT_FALSE(ec);
        EXPECT_EQ(n, 0u);
        EXPECT_FALSE(inline_call);  // posted, never called from the initiation
        ++completed;
    });
    server.async_write_some(asio::const_buffer(), [&](error_code ec, std::size_t n) {
        EXPECT_FALSE(ec);
        EXPECT_EQ(n, 0u);
        ++completed;
    });
    inline_call = false;
    ASSERT_TRUE(run_until([&] { return completed == 2; }));
}

}  // namespace
}  // namespace switchyard::http
