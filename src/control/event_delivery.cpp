#include "switchyard/control/event_delivery.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <utility>

#include "switchyard/core/ramp_event_text.hpp"
#include "switchyard/core/ramp_vocabulary.hpp"
#include "switchyard/core/text.hpp"
#include "switchyard/http/post_client.hpp"

namespace switchyard::control {

struct EventDelivery::Shared {
    Shared(boost::asio::io_context& io_, std::shared_ptr<spdlog::logger> log_,
           std::chrono::milliseconds backoff_)
        : io(io_), log(std::move(log_)), backoff(backoff_) {}

    boost::asio::io_context& io;
    std::shared_ptr<spdlog::logger> log;
    std::chrono::milliseconds backoff;
    std::atomic<std::uint64_t> ok{0}, failed{0}, retried{0};
    // Built on the first https post and kept: loading the system's trust
    // store for every post would cost more than the post.
    std::shared_ptr<const http::UpstreamTlsContext> tls;
    bool tls_tried = false;

    std::shared_ptr<const http::UpstreamTlsContext> tls_for(std::string_view url) {
        if (!iequals(url.substr(0, 6), "https:")) return nullptr;
        if (!tls_tried) {
            tls_tried = true;
            std::string error;
            tls = http::build_post_tls(error);
            if (!tls && log) log->warn("webhooks: no TLS client context: {}", error);
        }
        return tls;
    }
};

namespace {

bool is_2xx(int status) {
    return status >= 200 && status < 300;
}

// One webhook's delivery of one event: its own copy of the request, tried
// until a 2xx or kWebhookTries.
struct Delivery : std::enable_shared_from_this<Delivery> {
    std::shared_ptr<EventDelivery::Shared> shared;
    http::PostRequest request;
    std::string host;   // for log lines
    std::string event;  // type, for log lines
    int tries = 0;
    boost::asio::steady_timer timer;

    Delivery(std::shared_ptr<EventDelivery::Shared> s, http::PostRequest r, std::string ev)
        : shared(std::move(s)),
          request(std::move(r)),
          host(http::url_host(request.url)),
          event(std::move(ev)),
          timer(shared->io) {}

    void attempt() {
        ++tries;
        http::post(shared->io, request,
                   [self = shared_from_this()](http::PostResult r) { self->on_result(r); });
    }

    void on_result(const http::PostResult& r) {
        if (is_2xx(r.status)) {
            ++shared->ok;
            return;
        }
        const std::string why = r.status != 0 ? "answered " + std::to_string(r.status) : r.error;
        if (tries >= kWebhookTries) {
            ++shared->failed;
            if (shared->log)
                shared->log->warn("webhook to {}: {} event not delivered after {} tries: {}", host,
                                  event, tries, why);
            return;
        }
        const auto wait = shared->backoff * (1 << (tries - 1));
        if (shared->log)
            shared->log->warn("webhook to {}: {} event, try {} of {} failed: {}; retrying in {}",
                              host, event, tries, kWebhookTries, why, http::format_timeout(wait));
        ++shared->retried;
        timer.expires_after(wait);
        timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (!ec) self->attempt();
        });
    }
};

// The excerpt as one line: controls become spaces, runs of spaces one,
// trimmed.
std::string one_line(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        const char ch = (u < 0x20 || u == 0x7f) ? ' ' : c;
        if (ch == ' ' && (out.empty() || out.back() == ' ')) continue;
        out.push_back(ch);
    }
    while (!out.empty() && out.back() == ' ')
        out.pop_back();
    return out;
}

}  // namespace

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    const unsigned char* ok =
        HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &length);
    if (ok == nullptr) return {};
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(2 * length);
    for (unsigned int i = 0; i < length; ++i) {
        out.push_back(kHex[mac[i] >> 4]);
        out.push_back(kHex[mac[i] & 0x0f]);
    }
    return out;
}

std::string webhook_signature(std::string_view secret, std::string_view body) {
    return "sha256=" + hmac_sha256_hex(secret, body);
}

GateAnswer gate_answer(int status, std::string_view body_excerpt, std::string_view error) {
    GateAnswer a;
    if (status == 0) {
        a.text = "gate unreachable: " + std::string(error);
        return a;
    }
    a.allowed = is_2xx(status);
    a.text = "gate answered " + std::to_string(status);
    if (!a.allowed) {
        const std::string reason = one_line(body_excerpt);
        if (!reason.empty()) a.text += ": " + reason;
    }
    return a;
}

EventDelivery::EventDelivery(boost::asio::io_context& io, std::shared_ptr<spdlog::logger> log,
                             std::chrono::milliseconds backoff)
    : shared_(std::make_shared<Shared>(io, std::move(log), backoff)) {}

EventDelivery::~EventDelivery() = default;

void EventDelivery::configure(const RolloutSettings& settings) {
    webhooks_ = settings.webhooks;
}

void EventDelivery::deliver(const RampEvent& event, RampTime time, std::uint64_t generation) {
    std::string json, slack;  // each written once, whatever the number of webhooks
    const std::string type(to_string(event.type));
    for (const WebhookSettings& hook : webhooks_) {
        if (std::find(hook.events.begin(), hook.events.end(), event.type) == hook.events.end())
            continue;
        std::string& body = hook.format == WebhookFormat::slack ? slack : json;
        if (body.empty())
            body = hook.format == WebhookFormat::slack ? ramp_event_slack(event, time, generation)
                                                       : ramp_event_json(event, time, generation);
        http::PostRequest r;
        r.url = hook.url;
        r.body = body;
        r.timeout = hook.timeout;
        r.headers = {{"Content-Type", "application/json"}, {"X-Switchyard-Event", type}};
        if (!hook.secret.empty())
            r.headers.emplace_back("X-Switchyard-Signature", webhook_signature(hook.secret, body));
        r.tls = shared_->tls_for(hook.url);
        std::make_shared<Delivery>(shared_, std::move(r), type)->attempt();
    }
}

void EventDelivery::ask_gate(const std::string& url, const RampEvent& event, RampTime time,
                             std::uint64_t generation, std::chrono::milliseconds timeout,
                             std::function<void(GateAnswer)> done) {
    http::PostRequest r;
    r.url = url;
    r.body = ramp_event_json(event, time, generation);
    r.timeout = timeout;
    r.headers = {{"Content-Type", "application/json"},
                 {"X-Switchyard-Event", std::string(to_string(event.type))}};
    r.tls = shared_->tls_for(url);
    http::post(shared_->io, std::move(r), [done = std::move(done)](http::PostResult result) {
        done(gate_answer(result.status, result.body_excerpt, result.error));
    });
}

WebhookCounts EventDelivery::counts() const {
    return {shared_->ok.load(), shared_->failed.load(), shared_->retried.load()};
}

}  // namespace switchyard::control
