// Exchange: the dark-launch phase of a request (DESIGN.md "Dark launch"):
// the copy for the shadow pool, the secondary for noise, and the body they
// share with the primary as it streams.
#include "switchyard/core/diff_route.hpp"
#include "switchyard/core/shadow_policy.hpp"
#include "switchyard/proxy/exchange.hpp"

namespace switchyard::proxy {

void Exchange::start_mirror(const http::Framing& framing, const Decision& d) {
    ShadowExchange::Request r;
    r.method = method_;
    r.upstream_head = buf_.up_head;
    r.has_body = framing.kind != http::BodyKind::none &&
                 !(framing.kind == http::BodyKind::content_length && framing.length == 0);
    if (framing.kind == http::BodyKind::content_length) r.content_length = framing.length;
    r.upgrade = upgrade_requested_;
    const ShadowDiffSettings& diff = settings_->shadow.diff;
    std::shared_ptr<DiffPair> pair;
    if (routing_->shadow.diff)
        pair = std::make_shared<DiffPair>(worker_, settings_, diff_route(target_, diff.routes),
                                          method_, target_, buf_.request_id);
    mirror_ = ShadowExchange::start(worker_, settings_, routing_, r, pair);
    if (!mirror_) return;
    if (pair) {
        diff_ = pair;
        // The good build against itself, for requests that may be replayed
        // (safe, and without a body to copy twice).
        if (diff.secondary && is_safe_method(method_) && !r.has_body)
            ShadowExchange::start_secondary(worker_, settings_, routing_, r, d.pool, d.server,
                                            std::move(pair));
    }
    if (!r.has_body) {
        mirror_->body_done();
        mirror_.reset();  // it goes on alone
    }
}

// Body bytes from buf_.pieces[first_piece] on, new to the upstream: the
// copy gets them too, until the body is complete.
void Exchange::feed_mirror(std::size_t first_piece) {
    if (!mirror_) return;
    mirror_->add_body(std::span(buf_.pieces).subspan(first_piece), upload_pump_.payload_bytes());
    if (upload_done()) mirror_->body_done();
    if (upload_done() || mirror_->ended()) mirror_.reset();
}

}  // namespace switchyard::proxy
