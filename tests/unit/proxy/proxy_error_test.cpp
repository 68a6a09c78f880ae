#include "switchyard/proxy/proxy_error.hpp"

#include <gtest/gtest.h>

#include "switchyard/proxy/passive_report.hpp"
#include "switchyard/proxy/retry_rule.hpp"

namespace switchyard::proxy {
namespace {

TEST(ProxyError, OnePlaceMapsErrorsToStatuses) {
    EXPECT_EQ(status_for(ErrorKind::client_timeout), 408u);
    EXPECT_EQ(status_for(ErrorKind::body_too_large), 413u);
    EXPECT_EQ(status_for(ErrorKind::no_server), 503u);
    EXPECT_EQ(status_for(ErrorKind::limit_reached), 503u);
    EXPECT_EQ(status_for(ErrorKind::connect_failed), 502u);
    EXPECT_EQ(status_for(ErrorKind::upstream_tls), 502u);
    EXPECT_EQ(status_for(ErrorKind::connect_timeout), 504u);
    EXPECT_EQ(status_for(ErrorKind::upstream_timeout), 504u);
    EXPECT_EQ(status_for(ErrorKind::upstream_reset), 502u);
    EXPECT_EQ(status_for(ErrorKind::bad_response), 502u);
    EXPECT_EQ(to_string(ErrorKind::upstream_closed), "upstream_closed");
    EXPECT_EQ(to_string(ErrorKind::none), "");
}

// --- The retry rule ------------------------------------------------------------

constexpr ErrorKind kReachFailures[] = {ErrorKind::connect_failed, ErrorKind::connect_timeout,
                                        ErrorKind::upstream_closed, ErrorKind::upstream_reset};

TEST(RetryRule, NothingSentMayGoAgainWhateverTheMethod) {
    AttemptFacts post;  // not idempotent, nothing written
    for (auto kind : kReachFailures)
        EXPECT_TRUE(may_resend(post, kind)) << to_string(kind);
}

TEST(RetryRule, OnlyFailuresToReachTheServerAreRetried) {
    AttemptFacts get;
    get.idempotent = true;
    for (auto kind : {ErrorKind::upstream_timeout, ErrorKind::bad_response, ErrorKind::upstream_tls,
                      ErrorKind::send_timeout, ErrorKind::client_timeout, ErrorKind::drain_cut,
                      ErrorKind::no_server})
        EXPECT_FALSE(may_resend(get, kind)) << to_string(kind);
}

TEST(RetryRule, ANonIdempotentRequestThatMayHaveArrivedIsNeverReplayed) {
    AttemptFacts post;
    post.bytes_written = 120;
    for (auto kind : kReachFailures)
        EXPECT_FALSE(may_resend(post, kind)) << to_string(kind);
}

TEST(RetryRule, AnIdempotentRequestIsReplayedFromTheBufferUntilAResponseByteArrives) {
    AttemptFacts get;
    get.idempotent = true;
    get.bytes_written = 120;
    EXPECT_TRUE(may_resend(get, ErrorKind::upstream_reset));
    get.response_byte_received = true;
    EXPECT_FALSE(may_resend(get, ErrorKind::upstream_reset));
}

TEST(RetryRule, NotWhenTheReplayBufferOverflowedOrTheClientHasResponseBytes) {
    AttemptFacts get;
    get.idempotent = true;
    get.replayable = false;  // more body went out than retry_buffer holds
    EXPECT_FALSE(may_resend(get, ErrorKind::connect_failed));
    get.replayable = true;
    get.response_started = true;
    EXPECT_FALSE(may_resend(get, ErrorKind::connect_failed));
}

// --- What an attempt says about its server -----------------------------------------

TEST(PassiveReport, UpstreamFailuresAreReportedByTheirOutcome) {
    EXPECT_EQ(passive_report(ErrorKind::connect_failed, 0),
              (PassiveResult{PassiveOutcome::connect_failure, 0}));
    EXPECT_EQ(passive_report(ErrorKind::connect_timeout, 0),
              (PassiveResult{PassiveOutcome::connect_failure, 0}));
    EXPECT_EQ(passive_report(ErrorKind::upstream_tls, 0),
              (PassiveResult{PassiveOutcome::connect_failure, 0}));
    EXPECT_EQ(passive_report(ErrorKind::upstream_closed, 0),
              (PassiveResult{PassiveOutcome::reset, 0}));
    EXPECT_EQ(passive_report(ErrorKind::upstream_reset, 0),
              (PassiveResult{PassiveOutcome::reset, 0}));
    EXPECT_EQ(passive_report(ErrorKind::upstream_timeout, 0),
              (PassiveResult{PassiveOutcome::timeout, 0}));
    EXPECT_EQ(passive_report(ErrorKind::bad_response, 0),
              (PassiveResult{PassiveOutcome::server_error, 502}));
}

TEST(PassiveReport, AResponseReportsItsStatus) {
    EXPECT_EQ(passive_report(ErrorKind::none, 200), (PassiveResult{PassiveOutcome::success, 200}));
    EXPECT_EQ(passive_report(ErrorKind::none, 404),
              (PassiveResult{PassiveOutcome::success, 404}));  // the client's fault
    EXPECT_EQ(passive_report(ErrorKind::none, 503),
              (PassiveResult{PassiveOutcome::server_error, 503}));
}

TEST(PassiveReport, TheClientsDoingOrTheProxysSaysNothingAboutTheServer) {
    EXPECT_FALSE(passive_report(ErrorKind::none, 0));  // no response at all
    for (auto kind : {ErrorKind::client_timeout, ErrorKind::client_closed,
                      ErrorKind::body_too_large, ErrorKind::no_server, ErrorKind::limit_reached,
                      ErrorKind::send_timeout, ErrorKind::drain_cut})
        EXPECT_FALSE(passive_report(kind, 0)) << to_string(kind);
}

}  // namespace
}  // namespace switchyard::proxy
