// The admin listener's live dashboard: the page, its script and
// style come from the binary with Content-Security-Policy: default-src
// 'self'; headless Chromium loads it from a running Switchyard, sees the
// active pool and the canary share, and follows a `switch green` within 2 s.
// Where Chromium is not installed, the browser test is skipped with the
// reason; an installed Chromium that crashes or hangs fails it.
#include <signal.h>

#include <atomic>
#include <boost/json.hpp>
#include <cstdlib>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include "cdp_client.hpp"
#include "fixture.hpp"

namespace sy_it {
namespace {

namespace json = boost::json;

bool has(const std::string& text, std::string_view what) {
    return text.find(what) != std::string::npos;
}

using Dashboard = ProxyTest;

// Opens http://127.0.0.1:admin_port/ in the page, recording console and log
// events and, from before the page's first script, any CSP violation.
void open_dashboard(CdpSession& page, std::uint16_t admin_port) {
    page.call("Runtime.enable");
    page.call("Log.enable");
    page.call("Page.enable");
    json::object init;
    init["source"] =
        "window.__syCsp = [];"
        "document.addEventListener('securitypolicyviolation', (e) => "
        "window.__syCsp.push(e.violatedDirective + ' ' + e.blockedURI));";
    page.call("Page.addScriptToEvaluateOnNewDocument", init);
    json::object nav;
    nav["url"] = "http://127.0.0.1:" + std::to_string(admin_port) + "/";
    auto navigated = page.call("Page.navigate", nav);
    if (navigated.contains("errorText"))
        throw std::runtime_error("navigation failed: " + json::serialize(navigated));
}

std::string text_of(CdpSession& page, std::string_view id) {
    return page.evaluate_string("document.getElementById('" + std::string(id) +
                                "')?.textContent ?? ''");
}

// A PNG of the page: the viewport, or (whole_page) the document's height.
std::string screenshot(CdpSession& page, bool whole_page = false) {
    json::object shot;
    shot["format"] = "png";
    if (whole_page) {
        const int height = page.evaluate("Math.ceil(document.body.getBoundingClientRect().bottom)")
                               .to_number<int>();
        const int width = page.evaluate("document.documentElement.clientWidth").to_number<int>();
        shot["clip"] = {{"x", 0}, {"y", 0}, {"width", width}, {"height", height}, {"scale", 1}};
        shot["captureBeyondViewport"] = true;
    }
    return base64_decode(page.call("Page.captureScreenshot", shot).at("data").as_string());
}

TEST_F(Dashboard, PageScriptAndStyleAreServedWithTheContentSecurityPolicy) {
    auto cfg = base_config();
    cfg.admin_port = free_port();
    start_proxy(cfg);
    ASSERT_TRUE(wait_for_port(cfg.admin_port, after(seconds(5))));
    HttpConn admin(cfg.admin_port);
    auto page = admin.roundtrip(get_request("/"));
    EXPECT_EQ(page.status(), 200u);
    EXPECT_EQ(page.header("Content-Type").rfind("text/html", 0), 0u) << page.header("Content-Type");
    EXPECT_EQ(page.header("Content-Security-Policy"), "default-src 'self'");
    EXPECT_EQ(page.header("X-Content-Type-Options"), "nosniff");
    EXPECT_TRUE(has(page.body(), "id=\"active-pool\"")) << page.body();
    EXPECT_TRUE(has(page.body(), "<script src=\"/dashboard.js\""));

    auto js = admin.roundtrip(get_request("/dashboard.js"));  // keep-alive
    EXPECT_EQ(js.status(), 200u);
    EXPECT_EQ(js.header("Content-Type").rfind("text/javascript", 0), 0u);
    EXPECT_EQ(js.header("Content-Security-Policy"), "default-src 'self'");
    EXPECT_TRUE(has(js.body(), "/status"));
    auto css = admin.roundtrip(get_request("/dashboard.css?v=1"));  // the query is ignored
    EXPECT_EQ(css.status(), 200u);
    EXPECT_EQ(css.header("Content-Type").rfind("text/css", 0), 0u);

    admin.send("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n");
    auto head = admin.read_response(seconds(5), true);
    EXPECT_EQ(head.status(), 200u);
    EXPECT_EQ(head.header("Content-Length"), std::to_string(page.body().size()));
    EXPECT_EQ(head.body(), "");
    EXPECT_EQ(admin.roundtrip(get_request("/index.html")).status(), 404u);
    auto post = admin.roundtrip("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(post.status(), 405u);  // read only
}

TEST_F(Dashboard, HeadlessChromiumShowsTheActivePoolAndCanaryAndFollowsASwitch) {
    auto launch = Chromium::start(dir_);
    if (!launch.installed) GTEST_SKIP() << launch.why;
    ASSERT_TRUE(launch.browser) << "chromium is installed but did not start: " << launch.why;
    const auto& chromium = launch.browser;
    std::cout << "[ chromium ] " << chromium->version() << "\n";

    auto cfg = base_config();
    cfg.admin_port = free_port();
    start_proxy(cfg);
    ASSERT_TRUE(wait_for_port(cfg.admin_port, after(seconds(5))));
    const auto control = [&](std::string_view line) {
        return json::parse(control_command(dir_ / "control.sock", line)).as_object();
    };
    ASSERT_TRUE(control("canary green 10")["ok"].as_bool());
    // Some traffic on both pools (random users: ~10 % to green), so that the
    // page has rates to draw.
    {
        auto conn = proxy_->connect();
        for (int i = 0; i < 200; ++i)
            ASSERT_EQ(conn.roundtrip(get_request("/")).status(), 200u) << i;
    }

    CdpSession page(chromium->port(), chromium->page_ws_path());
    open_dashboard(page, cfg.admin_port);
    const auto text = [&](std::string_view id) { return text_of(page, id); };
    // Filled in by dashboard.js from /status: the script ran under the CSP.
    const auto loaded = Clock::now();
    ASSERT_TRUE(poll_until(
        after(seconds(10)), [&] { return text("active-pool") == "blue"; }, milliseconds(50)))
        << "active-pool: '" << text("active-pool") << "'\n"
        << chromium->log_tail();
    std::cout << "[ measured ] page loaded and showed blue after " << ms_since(loaded) << " ms\n";
    const std::string canary = text("canary");
    EXPECT_TRUE(has(canary, "green") && has(canary, "10")) << canary;
    EXPECT_EQ(text("generation"), std::to_string(control("status")["generation"].as_int64()));
    EXPECT_EQ(text("config-generation"),
              std::to_string(control("status")["config_generation"].as_int64()));
    EXPECT_EQ(text("conn-text"), "live");
    // One card per pool, with its servers.
    EXPECT_EQ(page.evaluate("document.querySelectorAll('#pools .pool').length").to_number<int>(),
              2);
    EXPECT_TRUE(has(text("pool-blue"), blue_->address())) << text("pool-blue");

    const auto t0 = Clock::now();
    ASSERT_TRUE(control("switch green")["ok"].as_bool());
    const bool followed = poll_until(
        after(seconds(2)), [&] { return text("active-pool") == "green"; }, milliseconds(20));
    const auto took = ms_since(t0);
    EXPECT_TRUE(followed) << "after 2 s the page shows active '" << text("active-pool") << "'";
    std::cout << "[ measured ] switch green -> the page shows green as active after " << took
              << " ms\n";
    EXPECT_EQ(text("canary"), "none");  // canary = {blue, 0}: no users sent
    EXPECT_EQ(text("previous-pool"), "blue");

    // No CSP violation, no script error, nothing blocked on the console.
    EXPECT_EQ(page.evaluate_string("JSON.stringify(window.__syCsp)"), "[]");
    for (const auto& e : page.events()) {
        const std::string params = json::serialize(e.params);
        EXPECT_FALSE(has(params, "Content Security Policy")) << e.method << " " << params;
        EXPECT_NE(e.method, "Runtime.exceptionThrown") << params;
        if (e.method == "Log.entryAdded" || e.method == "Runtime.consoleAPICalled") {
            EXPECT_FALSE(has(params, "\"level\":\"error\"") || has(params, "\"type\":\"error\""))
                << e.method << " " << params;
        }
    }

    // A screenshot of what the operator sees, next to the build.
    const std::string png = screenshot(page);
    ASSERT_GT(png.size(), 8u);
    EXPECT_EQ(png.substr(1, 3), "PNG");
    const std::filesystem::path out =
        std::filesystem::path(SWITCHYARD_BINARY_DIR) / "dashboard.png";
    write_file(out, png);
    std::cout << "[ screenshot ] " << out.string() << " (" << png.size() << " bytes)\n";

    // Switchyard gone: the page says so and keeps retrying; back (the state
    // file keeps green active), it is live again.
    proxy_->process().signal(SIGTERM);
    ASSERT_TRUE(exited_with(proxy_->process().wait_exit(after(seconds(10))), 0));
    EXPECT_TRUE(poll_until(
        after(seconds(5)), [&] { return has(text("conn-text"), "disconnected"); },
        milliseconds(50)))
        << text("conn-text");
    start_proxy(cfg);
    ASSERT_TRUE(wait_for_port(cfg.admin_port, after(seconds(5))));
    EXPECT_TRUE(poll_until(
        after(seconds(5)), [&] { return text("conn-text") == "live"; }, milliseconds(50)))
        << text("conn-text");
    EXPECT_EQ(text("active-pool"), "green");

    EXPECT_TRUE(chromium->stop()) << "chromium did not exit on SIGTERM";
}

// The ramp banner: where the ramp is, its steps, and its end.
TEST_F(Dashboard, ShowsTheRampAndItsSteps) {
    auto launch = Chromium::start(dir_);
    if (!launch.installed) GTEST_SKIP() << launch.why;
    ASSERT_TRUE(launch.browser) << "chromium is installed but did not start: " << launch.why;
    auto cfg = base_config();
    cfg.admin_port = free_port();
    cfg.extra = "\n[rollout]\nsteps = [5, 25, 100]\nbake = \"1h\"\n";
    start_proxy(cfg);
    ASSERT_TRUE(wait_for_port(cfg.admin_port, after(seconds(5))));
    const auto control = [&](std::string_view line) {
        return json::parse(control_command(dir_ / "control.sock", line)).as_object();
    };
    CdpSession page(launch.browser->port(), launch.browser->page_ws_path());
    open_dashboard(page, cfg.admin_port);
    const auto text = [&](std::string_view id) { return text_of(page, id); };
    ASSERT_TRUE(poll_until(
        after(seconds(10)), [&] { return text("active-pool") == "blue"; }, milliseconds(50)));
    EXPECT_EQ(page.evaluate_string("String(document.getElementById('ramp').hidden)"), "true");

    ASSERT_TRUE(control("ramp green")["ok"].as_bool());
    ASSERT_TRUE(poll_until(
        after(seconds(5)), [&] { return text("ramp-title") == "Ramp of green"; }, milliseconds(50)))
        << text("ramp-title");
    EXPECT_EQ(text("ramp-state"), "running");
    EXPECT_EQ(page.evaluate("document.querySelectorAll('#ramp-steps .ramp-step').length")
                  .to_number<int>(),
              3);
    EXPECT_EQ(page.evaluate_string("document.querySelector('#ramp-steps .current')?.textContent"),
              "5 %");
    EXPECT_TRUE(has(text("ramp-reason"), "step 1 of 3")) << text("ramp-reason");
    // No traffic: the judgements (every second) are inconclusive, and say why.
    EXPECT_TRUE(poll_until(
        after(seconds(5)), [&] { return has(text("ramp-verdict"), "requests needed"); },
        milliseconds(50)))
        << text("ramp-verdict");

    ASSERT_TRUE(control("ramp abort")["ok"].as_bool());
    EXPECT_TRUE(poll_until(
        after(seconds(5)), [&] { return text("ramp-state") == "aborted"; }, milliseconds(50)))
        << text("ramp-state");
    EXPECT_EQ(page.evaluate_string("JSON.stringify(window.__syCsp)"), "[]");
    for (const auto& e : page.events())
        EXPECT_NE(e.method, "Runtime.exceptionThrown") << json::serialize(e.params);
    EXPECT_TRUE(launch.browser->stop());
}

// The flags panel: hidden without flags; each flag with its share, pools and
// requests, following `flag` commands.
TEST_F(Dashboard, ShowsTheFlags) {
    auto launch = Chromium::start(dir_);
    if (!launch.installed) GTEST_SKIP() << launch.why;
    ASSERT_TRUE(launch.browser) << "chromium is installed but did not start: " << launch.why;
    auto cfg = base_config();
    cfg.admin_port = free_port();
    cfg.extra =
        "\n[[flags]]\nname = \"new-checkout\"\npercent = 5\ndescription = \"one-page "
        "checkout\"\n[[flags]]\nname = \"dark-mode\"\npools = [\"green\"]\n";
    start_proxy(cfg);
    ASSERT_TRUE(wait_for_port(cfg.admin_port, after(seconds(5))));
    CdpSession page(launch.browser->port(), launch.browser->page_ws_path());
    open_dashboard(page, cfg.admin_port);
    const auto cell = [&](std::string_view flag, std::string_view cls) {
        return page.evaluate_string("document.querySelector('tr[data-flag=\"" + std::string(flag) +
                                    "\"] ." + std::string(cls) + "')?.textContent ?? ''");
    };
    ASSERT_TRUE(poll_until(
        after(seconds(10)), [&] { return cell("new-checkout", "flag-percent") == "5.000 %"; },
        milliseconds(50)))
        << cell("new-checkout", "flag-percent");
    EXPECT_EQ(page.evaluate_string("String(document.getElementById('flags').hidden)"), "false");
    EXPECT_EQ(cell("new-checkout", "flag-pools"), "any");
    EXPECT_EQ(cell("dark-mode", "flag-pools"), "green");
    EXPECT_EQ(cell("dark-mode", "flag-percent"), "0.000 %");

    HttpConn c(proxy_->port());
    ASSERT_EQ(control_command(dir_ / "control.sock", "flag new-checkout 100").find("\"ok\":true"),
              1u);
    for (int i = 0; i < 3; ++i)
        ASSERT_EQ(
            c.roundtrip(get_request("/", "Cookie: sy_uid=u" + std::to_string(i) + "\r\n")).status(),
            200u);
    EXPECT_TRUE(poll_until(
        after(seconds(5)),
        [&] {
            return cell("new-checkout", "flag-percent") == "100.000 %" &&
                   cell("new-checkout", "flag-requests") == "3";
        },
        milliseconds(50)))
        << cell("new-checkout", "flag-percent") << " " << cell("new-checkout", "flag-requests");
    EXPECT_EQ(page.evaluate_string("JSON.stringify(window.__syCsp)"), "[]");
    for (const auto& e : page.events())
        EXPECT_NE(e.method, "Runtime.exceptionThrown") << json::serialize(e.params);
    EXPECT_TRUE(launch.browser->stop());
}

// The dark launch panel: hidden while mirroring is off; the shadow pool,
// its share and health once the config or a `shadow` command names one.
TEST_F(Dashboard, ShowsTheShadow) {
    auto launch = Chromium::start(dir_);
    if (!launch.installed) GTEST_SKIP() << launch.why;
    ASSERT_TRUE(launch.browser) << "chromium is installed but did not start: " << launch.why;
    auto cfg = base_config();
    cfg.admin_port = free_port();
    cfg.extra = "\n[shadow]\npool = \"green\"\npercent = 2.5\n";
    start_proxy(cfg);
    ASSERT_TRUE(wait_for_port(cfg.admin_port, after(seconds(5))));
    CdpSession page(launch.browser->port(), launch.browser->page_ws_path());
    open_dashboard(page, cfg.admin_port);
    ASSERT_TRUE(poll_until(
        after(seconds(10)), [&] { return text_of(page, "shadow-percent") == "2.500 %"; },
        milliseconds(50)))
        << text_of(page, "shadow-percent");
    EXPECT_EQ(page.evaluate_string("String(document.getElementById('shadow').hidden)"), "false");
    EXPECT_EQ(text_of(page, "shadow-pool"), "green");
    EXPECT_EQ(text_of(page, "shadow-diff"), "off");
    EXPECT_EQ(text_of(page, "shadow-health"), "1/1");
    EXPECT_TRUE(has(text_of(page, "shadow-requests"), "sent 0"))
        << text_of(page, "shadow-requests");

    ASSERT_EQ(control_command(dir_ / "control.sock", "shadow green 50 diff").find("\"ok\":true"),
              1u);
    EXPECT_TRUE(poll_until(
        after(seconds(5)),
        [&] {
            return text_of(page, "shadow-percent") == "50.000 %" &&
                   text_of(page, "shadow-diff") == "on";
        },
        milliseconds(50)))
        << text_of(page, "shadow-percent");
    // With diff on, the compared routes: blue and green answer with their
    // names, so the body differs (and X-Echo-Name, a header).
    {
        HttpConn c(proxy_->port());
        for (int i = 0; i < 40; ++i)
            ASSERT_EQ(c.roundtrip(get_request("/api/items/" + std::to_string(i),
                                              "Cookie: sy_uid=u" + std::to_string(i) + "\r\n"))
                          .status(),
                      200u);
    }
    EXPECT_TRUE(poll_until(
        after(seconds(10)), [&] { return has(text_of(page, "diff-body"), "/api/items"); },
        milliseconds(50)))
        << text_of(page, "diff-body");
    EXPECT_TRUE(has(text_of(page, "diff-body"), "body 100.0 %")) << text_of(page, "diff-body");
    ASSERT_EQ(control_command(dir_ / "control.sock", "shadow off").find("\"ok\":true"), 1u);
    EXPECT_TRUE(poll_until(
        after(seconds(5)),
        [&] {
            return page.evaluate_string("String(document.getElementById('shadow').hidden)") ==
                   "true";
        },
        milliseconds(50)));
    EXPECT_EQ(page.evaluate_string("JSON.stringify(window.__syCsp)"), "[]");
    for (const auto& e : page.events())
        EXPECT_NE(e.method, "Runtime.exceptionThrown") << json::serialize(e.params);
    EXPECT_TRUE(launch.browser->stop());
}

// Only a missing browser is a reason to skip: one that is installed but exits
// at once, or hangs without opening DevTools, is reported as not started (the
// browser test then fails), and the hanging one is stopped by its PID.
TEST_F(Dashboard, AnInstalledBrowserThatCannotStartIsNotAReasonToSkip) {
    struct EnvGuard {
        std::optional<std::string> old;
        EnvGuard() {
            if (const char* v = std::getenv("SY_CHROMIUM")) old = v;
        }
        ~EnvGuard() {
            if (old) {
                ::setenv("SY_CHROMIUM", old->c_str(), 1);
            } else {
                ::unsetenv("SY_CHROMIUM");
            }
        }
    } guard;
    const auto script = [&](const std::string& name, const std::string& body) {
        const auto path = dir_ / name;
        write_file(path, "#!/bin/sh\n" + body + "\n");
        std::filesystem::permissions(path, std::filesystem::perms::owner_all);
        return path.string();
    };

    ::setenv("SY_CHROMIUM", (dir_ / "no-such-chromium").c_str(), 1);
    auto absent = Chromium::start(dir_);
    EXPECT_FALSE(absent.installed);
    EXPECT_FALSE(absent.browser);
    EXPECT_TRUE(has(absent.why, "is not installed")) << absent.why;

    ::setenv("SY_CHROMIUM", script("crashing-chromium", "echo 'it crashed' >&2; exit 3").c_str(),
             1);
    auto crashed = Chromium::start(dir_);
    EXPECT_TRUE(crashed.installed);
    EXPECT_FALSE(crashed.browser);
    EXPECT_TRUE(has(crashed.why, "exit")) << crashed.why;
    EXPECT_TRUE(has(crashed.why, "it crashed")) << crashed.why;

    ::setenv("SY_CHROMIUM", script("hanging-chromium", "exec sleep 60").c_str(), 1);
    const auto t0 = Clock::now();
    auto hung = Chromium::start(dir_, milliseconds(500));
    EXPECT_TRUE(hung.installed);
    EXPECT_FALSE(hung.browser);
    EXPECT_TRUE(has(hung.why, "no DevToolsActivePort")) << hung.why;
    EXPECT_LT(ms_since(t0), 10000) << "start() did not keep to its timeout";
}

// Not a check: regenerates the README's screenshot (about 2 minutes) from a
// canary in progress, with traffic on both pools and green a little slower
// and erring, as a candidate under watch might be. Run it with
// --gtest_also_run_disabled_tests --gtest_filter='Dashboard.DISABLED_ReadmeScreenshot',
// then copy <build>/dashboard-readme.png to docs/dashboard.png.
TEST_F(Dashboard, DISABLED_ReadmeScreenshot) {
    auto launch = Chromium::start(dir_);
    if (!launch.installed) GTEST_SKIP() << launch.why;
    ASSERT_TRUE(launch.browser) << "chromium is installed but did not start: " << launch.why;
    const auto& chromium = launch.browser;

    start_upstreams();
    EchoServer blue2(dir_, "blue");
    // green: 6-14 ms on top of what the request asks, and 1.5 % of 500s.
    const auto green_handler = [](ScriptedUpstream::Conn& c, int seq) {
        std::mt19937 rng(static_cast<unsigned>(seq) * 7919u);
        while (auto req = c.read_request(seconds(60))) {
            const auto at = req->head.find("delay_ms=");
            int delay = 6 + static_cast<int>(rng() % 9);
            if (at != std::string::npos) delay += std::atoi(req->head.c_str() + at + 9);
            std::this_thread::sleep_for(milliseconds(delay));  // the upstream's "work"
            const bool fail = at != std::string::npos && rng() % 1000 < 15;
            if (!c.send(fail
                            ? "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nbad\n"
                            : "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\ngreen\n"))
                return;
        }
    };
    ScriptedUpstream green1(green_handler);
    ScriptedUpstream green2(green_handler);
    const std::string health =
        "health = { path = \"/healthz\", interval = \"1s\", timeout = \"500ms\" }\n";
    ProxyConfig cfg;
    cfg.workers = 2;
    cfg.pools = {{"blue", {blue_->address(), blue2.address()}, health},
                 {"green", {green1.address(), green2.address()}, health}};
    cfg.admin_port = free_port();
    start_proxy(cfg);
    ASSERT_TRUE(wait_for_port(cfg.admin_port, after(seconds(5))));
    const auto control = [&](std::string_view line) {
        return json::parse(control_command(dir_ / "control.sock", line)).as_object();
    };

    // Users without a cookie: each request is a new user, so the canary
    // weight is the share of requests.
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int t = 0; t < 2; ++t) {
        clients.emplace_back([&, t] {
            std::mt19937 rng(static_cast<unsigned>(t) + 1);
            try {
                auto conn = proxy_->connect();
                while (!stop.load()) {
                    const int delay = 1 + static_cast<int>(rng() % 5);
                    Response r;
                    conn.send(get_request("/?delay_ms=" + std::to_string(delay)));
                    if (conn.try_read_response(r, seconds(5))) conn = proxy_->connect();
                    std::this_thread::sleep_for(milliseconds(3));  // pacing, ~150 req/s a client
                }
            } catch (const std::exception& e) {
                ADD_FAILURE() << "client " << t << ": " << e.what();
            }
        });
    }
    const auto stop_clients = [&] {
        stop = true;
        for (auto& c : clients)
            c.join();
        clients.clear();
    };

    CdpSession page(chromium->port(), chromium->page_ws_path());
    open_dashboard(page, cfg.admin_port);
    const auto t0 = Clock::now();
    const auto at = [&](int s) { return t0 + seconds(s); };
    poll_until(
        at(10), [] { return false; }, milliseconds(100));
    EXPECT_TRUE(control("canary green 5")["ok"].as_bool());
    poll_until(
        at(55), [] { return false; }, milliseconds(100));
    EXPECT_TRUE(control("canary green 20")["ok"].as_bool());
    poll_until(
        at(115), [] { return false; }, milliseconds(100));

    const std::string png = screenshot(page, true);
    stop_clients();
    const std::filesystem::path out =
        std::filesystem::path(SWITCHYARD_BINARY_DIR) / "dashboard-readme.png";
    write_file(out, png);
    std::cout << "[ screenshot ] " << out.string() << " (" << png.size() << " bytes)\n";
    EXPECT_EQ(page.evaluate_string("JSON.stringify(window.__syCsp)"), "[]");
    EXPECT_TRUE(chromium->stop());
}

}  // namespace
}  // namespace sy_it
