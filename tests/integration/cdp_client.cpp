#include "cdp_client.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/detail/base64.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

namespace sy_it {

namespace asio = boost::asio;
namespace json = boost::json;
namespace websocket = beast::websocket;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;

// --- Chromium ------------------------------------------------------------------------

Chromium::Launch Chromium::start(const TempDir& dir, Clock::duration timeout) {
    Launch launch;
    const char* env = std::getenv("SY_CHROMIUM");
    const std::string path = env != nullptr && *env != '\0' ? env : kPath;
    if (::access(path.c_str(), X_OK) != 0) {
        launch.why =
            path + " is not installed (scripts/install-deps.sh installs Debian's chromium)";
        return launch;
    }
    launch.installed = true;
    const fs::path profile = dir / "chromium-profile";
    std::error_code ec;
    fs::remove_all(profile, ec);
    fs::create_directories(profile);
    std::unique_ptr<Chromium> c(new Chromium());
    c->log_ = dir / "chromium.log";
    Process::Options options;
    options.argv = {
        path, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-extensions", "--disable-default-apps", "--no-default-browser-check",
        "--disable-breakpad", "--mute-audio", "--hide-scrollbars",
        // No name resolves: only IP literals (127.0.0.1) can be reached.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--window-size=1366,900",
        "--user-data-dir=" + profile.string(), "--remote-debugging-port=0", "about:blank"};
    options.stderr_path = c->log_;
    c->proc_ = std::make_unique<Process>(options);
    // Line 1: the port; line 2: the browser target's WebSocket path.
    const fs::path active = profile / "DevToolsActivePort";
    std::string text;
    const bool up = poll_until(
        after(timeout),
        [&] {
            text = read_file(active);
            return std::count(text.begin(), text.end(), '\n') >= 1 || !c->proc_->running();
        },
        milliseconds(20));
    if (!c->proc_->running()) {
        auto st = c->proc_->wait_exit(after(seconds(1)));
        launch.why = path + " " + (st ? describe_status(*st) : std::string("stopped")) +
                     " before it opened DevTools: " + c->log_tail(600);
        return launch;
    }
    if (!up) {
        launch.why = path + " wrote no DevToolsActivePort within " +
                     std::to_string(std::chrono::duration_cast<milliseconds>(timeout).count()) +
                     " ms: " + c->log_tail(600);
        return launch;  // ~Chromium stops it
    }
    try {
        c->port_ = static_cast<std::uint16_t>(std::stoul(text.substr(0, text.find('\n'))));
    } catch (const std::exception&) {
        launch.why = "unreadable DevToolsActivePort: " + text;
        return launch;
    }
    launch.browser = std::move(c);
    return launch;
}

Chromium::~Chromium() {
    if (proc_) stop(seconds(5));
}

bool Chromium::stop(Clock::duration timeout) {
    if (!proc_->running()) return true;
    proc_->signal(SIGTERM);
    return proc_->wait_exit(after(timeout)).has_value();
}

std::string Chromium::log_tail(std::size_t max) const {
    std::string log = read_file(log_);
    // The Debian launcher and headless Chromium log D-Bus noise; keep the rest.
    std::istringstream in(log);
    std::string line;
    std::string kept;
    while (std::getline(in, line))
        if (line.find("dbus") == std::string::npos) kept += line + "\n";
    if (kept.size() > max) kept = "..." + kept.substr(kept.size() - max);
    return kept;
}

std::string Chromium::devtools_http(std::string_view method, std::string_view target) {
    HttpConn conn(port_);
    if (!conn.connected()) throw std::runtime_error("cannot connect to the DevTools port");
    // DevTools accepts only an IP or localhost as Host.
    auto r = conn.roundtrip(std::string(method) + " " + std::string(target) +
                            " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port_) +
                            "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    if (r.status() != 200)
        throw std::runtime_error(std::string(target) + ": HTTP " + std::to_string(r.status()) +
                                 " " + r.body());
    return r.body();
}

std::string Chromium::version() {
    auto v = json::parse(devtools_http("GET", "/json/version"));
    return std::string(v.at("Browser").as_string());
}

std::string Chromium::page_ws_path(Clock::duration timeout) {
    const auto deadline = after(timeout);
    std::string path;
    std::string last;
    const auto from_url = [](std::string_view url) {
        // ws://127.0.0.1:PORT/devtools/page/ID → /devtools/page/ID
        const auto host = url.find("//");
        const auto slash = url.find('/', host == std::string_view::npos ? 0 : host + 2);
        return std::string(slash == std::string_view::npos ? url : url.substr(slash));
    };
    const bool found = poll_until(
        deadline,
        [&] {
            try {
                last = devtools_http("GET", "/json/list");
                const json::value list = json::parse(last);
                for (const auto& t : list.as_array()) {
                    const auto& o = t.as_object();
                    if (o.contains("type") && o.at("type") == "page" &&
                        o.contains("webSocketDebuggerUrl")) {
                        path = from_url(o.at("webSocketDebuggerUrl").as_string());
                        return true;
                    }
                }
                // No page (yet): ask for one.
                auto o = json::parse(devtools_http("PUT", "/json/new?about:blank")).as_object();
                path = from_url(o.at("webSocketDebuggerUrl").as_string());
                return true;
            } catch (const std::exception& e) {
                last = e.what();
                return false;
            }
        },
        milliseconds(50));
    if (!found) throw std::runtime_error("no page target: " + last);
    return path;
}

// --- CdpSession ---------------------------------------------------------------------

struct CdpSession::Impl {
    asio::io_context io;
    websocket::stream<beast::tcp_stream> ws{io};
    beast::flat_buffer buffer;
    bool broken = false;

    // Runs the io_context until `done` or the deadline; at the deadline the
    // connection is closed (the pending operation ends) and this throws.
    void run_until(const bool& done, Clock::time_point deadline, const std::string& what) {
        io.restart();
        while (!done) {
            if (Clock::now() >= deadline || io.stopped()) {
                broken = true;
                beast::get_lowest_layer(ws).close();
                io.restart();
                io.run_for(seconds(1));  // the aborted handler
                throw std::runtime_error("CDP " + what + ": " +
                                         (Clock::now() >= deadline ? "timed out" : "no progress"));
            }
            io.run_one_until(deadline);
        }
    }

    void write(const std::string& text, Clock::time_point deadline, const std::string& what) {
        bool done = false;
        beast::error_code result;
        ws.async_write(asio::buffer(text), [&](beast::error_code ec, std::size_t) {
            result = ec;
            done = true;
        });
        run_until(done, deadline, what);
        if (result) {
            broken = true;
            throw std::runtime_error("CDP " + what + ": write: " + result.message());
        }
    }

    json::object read(Clock::time_point deadline, const std::string& what) {
        bool done = false;
        beast::error_code result;
        buffer.clear();
        ws.async_read(buffer, [&](beast::error_code ec, std::size_t) {
            result = ec;
            done = true;
        });
        run_until(done, deadline, what);
        if (result) {
            broken = true;
            throw std::runtime_error("CDP " + what + ": read: " + result.message());
        }
        return json::parse(beast::buffers_to_string(buffer.data())).as_object();
    }
};

CdpSession::CdpSession(std::uint16_t port, const std::string& ws_path, Clock::duration timeout)
    : impl_(std::make_unique<Impl>()) {
    const auto deadline = after(timeout);
    bool done = false;
    beast::error_code result;
    const tcp::endpoint ep(asio::ip::make_address_v4("127.0.0.1"), port);
    beast::get_lowest_layer(impl_->ws).async_connect(ep, [&](beast::error_code ec) {
        result = ec;
        done = true;
    });
    impl_->run_until(done, deadline, "connect");
    if (result) throw std::runtime_error("CDP connect: " + result.message());
    done = false;
    impl_->ws.async_handshake("127.0.0.1:" + std::to_string(port), ws_path,
                              [&](beast::error_code ec) {
                                  result = ec;
                                  done = true;
                              });
    impl_->run_until(done, deadline, "handshake");
    if (result) throw std::runtime_error("CDP handshake: " + result.message());
    impl_->ws.read_message_max(64 * 1024 * 1024);  // screenshots
}

CdpSession::~CdpSession() {
    if (impl_->broken) return;
    try {
        bool done = false;
        impl_->ws.async_close(websocket::close_code::normal,
                              [&](beast::error_code) { done = true; });
        impl_->run_until(done, after(seconds(2)), "close");
    } catch (const std::exception&) {
        // closed by run_until
    }
}

json::object CdpSession::call(std::string_view method, json::object params,
                              Clock::duration timeout) {
    const std::string what(method);
    if (impl_->broken) throw std::runtime_error("CDP " + what + ": session broken earlier");
    const auto deadline = after(timeout);
    const std::int64_t id = next_id_++;
    json::object msg;
    msg["id"] = id;
    msg["method"] = method;
    msg["params"] = std::move(params);
    impl_->write(json::serialize(msg), deadline, what);
    for (;;) {
        json::object in = impl_->read(deadline, what);
        if (const auto* m = in.if_contains("method"); m && m->is_string()) {
            Event e{std::string(m->as_string()), {}};
            if (const auto* p = in.if_contains("params"); p && p->is_object())
                e.params = p->as_object();
            events_.push_back(std::move(e));
            continue;
        }
        const auto* got = in.if_contains("id");
        if (!got || !got->is_int64() || got->as_int64() != id) continue;
        if (const auto* err = in.if_contains("error"))
            throw std::runtime_error("CDP " + what + ": " + json::serialize(*err));
        if (const auto* r = in.if_contains("result"); r && r->is_object()) return r->as_object();
        return {};
    }
}

json::value CdpSession::evaluate(std::string_view expression, Clock::duration timeout) {
    json::object params;
    params["expression"] = expression;
    params["returnByValue"] = true;
    auto r = call("Runtime.evaluate", std::move(params), timeout);
    if (const auto* ex = r.if_contains("exceptionDetails"))
        throw std::runtime_error("evaluate " + std::string(expression) + ": " +
                                 json::serialize(*ex));
    const auto& result = r.at("result").as_object();
    if (const auto* v = result.if_contains("value")) return *v;
    return nullptr;
}

std::string CdpSession::evaluate_string(std::string_view expression, Clock::duration timeout) {
    auto v = evaluate(expression, timeout);
    return v.is_string() ? std::string(v.as_string()) : std::string();
}

std::string base64_decode(std::string_view text) {
    namespace b64 = beast::detail::base64;
    std::string out(b64::decoded_size(text.size()), '\0');
    const auto [written, read] = b64::decode(out.data(), text.data(), text.size());
    // It stops at the padding.
    if (text.find_first_not_of('=', read) != std::string_view::npos)
        throw std::runtime_error("invalid base64");
    out.resize(written);
    return out;
}

}  // namespace sy_it
