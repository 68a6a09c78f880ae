// The etcd response fuzz target (fuzz/fuzz_etcd_response.cpp, replayed by
// tests/unit/cluster/fuzz_regression_test.cpp): what an etcd gateway, or
// anything answering in its place, sends a member is untrusted input. Every
// parser must answer with a value or a reason, never crash, and the watch
// stream's splitter must hand out whole lines within its bound whatever the
// pieces the bytes arrive in.
#pragma once

#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "switchyard/cluster/etcd_responses.hpp"
#include "switchyard/cluster/ndjson_splitter.hpp"

namespace switchyard::fuzz {

namespace detail {

template <typename T>
void check_parsed(const cluster::Parsed<T>& p) {
    SY_FUZZ_CHECK(p.ok() == p.error().empty());
}

}  // namespace detail

inline void check_etcd_response(std::string_view input) {
    using namespace cluster;
    detail::check_parsed(parse_range(input));
    detail::check_parsed(parse_put(input));
    detail::check_parsed(parse_delete_range(input));
    detail::check_parsed(parse_txn(input));
    detail::check_parsed(parse_lease_grant(input));
    detail::check_parsed(parse_lease_keepalive(input));
    detail::check_parsed(parse_lease_revoke(input));
    detail::check_parsed(parse_authenticate(input));
    const auto watch = parse_watch_message(input);
    detail::check_parsed(watch);
    (void)parse_error(input);

    // The stream in pieces: every line handed out is whole (no newline in
    // it) and within the bound; the same bytes split otherwise give the same
    // lines.
    constexpr std::size_t kMaxLine = 256;
    const auto lines_of = [&](std::uint64_t seed) {
        NdjsonSplitter splitter(kMaxLine);
        SplitMix pieces(seed);
        std::string out;
        for (std::size_t at = 0; at < input.size() && !splitter.failed();) {
            const std::size_t n = pieces.piece(input.size() - at);
            splitter.feed(input.substr(at, n));
            at += n;
            while (auto line = splitter.next_line()) {
                SY_FUZZ_CHECK(line->find('\n') == std::string::npos);
                SY_FUZZ_CHECK(line->size() <= kMaxLine);
                SY_FUZZ_CHECK(!line->empty());
                out += *line;
                out += '\n';
            }
        }
        return std::make_pair(out, splitter.failed());
    };
    const auto a = lines_of(input_hash(input));
    const auto b = lines_of(input_hash(input) ^ 0x5555);
    if (!a.second && !b.second) SY_FUZZ_CHECK(a.first == b.first);
}

}  // namespace switchyard::fuzz
