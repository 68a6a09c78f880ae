// Headless Chromium driven through the Chrome DevTools Protocol (CDP), for
// the dashboard test: just enough to load a page from 127.0.0.1, evaluate
// expressions in it, collect console/log events and take a screenshot.
//
// Chromium runs as a child process (harness Process: stopped by its PID,
// SIGKILLed if the test dies) with a fresh profile, no network beyond what
// the page asks for, and DevTools on an ephemeral port that it writes into
// <profile>/DevToolsActivePort. CdpSession speaks the protocol over a
// Boost.Beast WebSocket; every call has a deadline.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "harness.hpp"

namespace sy_it {

class Chromium {
  public:
    // Debian's package; SY_CHROMIUM=PATH runs another build.
    static constexpr const char* kPath = "/usr/bin/chromium";

    struct Launch {
        std::unique_ptr<Chromium> browser;  // null when it is absent or did not come up
        bool installed = false;             // the binary exists and is executable
        std::string why;                    // when !browser: what went wrong
    };
    // Starts Chromium with a fresh profile under `dir` and waits (up to
    // `timeout`) for its DevTools port. A test skips only when !installed:
    // an installed browser that crashes or hangs is a failure.
    static Launch start(const TempDir& dir, Clock::duration timeout = seconds(30));
    // SIGTERM, a bounded wait, then SIGKILL (by the Process).
    ~Chromium();
    Chromium(const Chromium&) = delete;
    Chromium& operator=(const Chromium&) = delete;

    std::uint16_t port() const { return port_; }
    Process& process() { return *proc_; }
    // "Chrome/156.0.…" from /json/version.
    std::string version();
    // The WebSocket path of a page target (/json/list; /json/new if none).
    // Throws std::runtime_error at the deadline.
    std::string page_ws_path(Clock::duration timeout = seconds(10));
    // Stops the browser: SIGTERM, then waits for it by PID. True if it exited.
    bool stop(Clock::duration timeout = seconds(10));
    // The end of Chromium's stderr, for failure messages.
    std::string log_tail(std::size_t max = 3000) const;

  private:
    Chromium() = default;
    // GET (or PUT) on the DevTools HTTP endpoint; the body.
    std::string devtools_http(std::string_view method, std::string_view target);

    std::unique_ptr<Process> proc_;
    std::filesystem::path log_;
    std::uint16_t port_ = 0;
};

class CdpSession {
  public:
    // Connects to ws://127.0.0.1:port/ws_path. Throws std::runtime_error.
    CdpSession(std::uint16_t port, const std::string& ws_path,
               Clock::duration timeout = seconds(5));
    ~CdpSession();
    CdpSession(const CdpSession&) = delete;
    CdpSession& operator=(const CdpSession&) = delete;

    // Sends a command and waits for its reply; events arriving meanwhile are
    // kept (events()). The reply's "result"; throws std::runtime_error on an
    // error reply, a broken connection or the deadline (after which the
    // session is unusable).
    boost::json::object call(std::string_view method, boost::json::object params = {},
                             Clock::duration timeout = seconds(10));
    // Runtime.evaluate, returning the value (null for undefined); throws if
    // the expression threw.
    boost::json::value evaluate(std::string_view expression, Clock::duration timeout = seconds(5));
    // The string value of `expression`, or "" if it is not a string.
    std::string evaluate_string(std::string_view expression, Clock::duration timeout = seconds(5));

    struct Event {
        std::string method;
        boost::json::object params;
    };
    const std::vector<Event>& events() const { return events_; }

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::vector<Event> events_;
    std::int64_t next_id_ = 1;
};

// Decodes standard base64 (CDP's screenshot data); throws on bad input.
std::string base64_decode(std::string_view text);

}  // namespace sy_it
