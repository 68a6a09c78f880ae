// Compares two captured responses to one request (DESIGN.md "Dark launch",
// `diff`): the primary's with the shadow's (the candidate), or with the
// secondary's (noise). Pure: no I/O; Boost.JSON for the bodies.
//
// The result names the fields that differ:
// - "status" when the status codes differ;
// - "header:NAME" (NAME in lower case) for a field present on one side only
//   or with other values (a field's values joined in order, each trimmed),
//   except the names in ignore_headers and the hop-by-hop and framing fields
//   (connection, keep-alive, transfer-encoding, content-length, te, trailer,
//   upgrade, via), which say how the bytes travelled, not what they are;
// - the body: when both bodies are JSON, the paths that differ (below),
//   else "body" when the bytes differ.
// The bodies are read as JSON when either side's Content-Type contains
// "json" (any case) or either body starts, after white space, with '{' or
// '[' (so a plain-text "1.0" is not the number 1); if either does not parse
// (malformed, over 64 levels deep, invalid UTF-8) both are compared as bytes.
//
// JSON paths: the root is "$"; a member is ".key" (keys of letters, digits,
// '_' and '-') or "[\"key\"]" (any other key, JSON-escaped); an array
// element is "[]", every index collapsed, so "$.items[].price" counts one
// field however many items differ. A path differs when one side lacks the
// member, the types differ (numbers are one type), scalars differ by value
// (numbers by value: 1.0 equals 1; strings by bytes), or arrays differ in
// length (reported at the array's path; the common elements are compared
// too). Paths longer than 256 bytes are cut at the last step that fits: what
// differs below is reported there.
//
// At most 64 fields: when more differ, the first 63 found are named and the
// 64th is "other" (as DiffTable's overflow). If either body went over
// max_body (captured truncated, or longer than it) the pair is not
// comparable: no fields, comparable = false.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "switchyard/core/settings.hpp"

namespace switchyard {

inline constexpr std::size_t kMaxComparisonFields = 64;
inline constexpr std::size_t kComparisonJsonMaxDepth = 64;
inline constexpr std::size_t kMaxComparisonPathLength = 256;

struct CapturedResponse {
    unsigned status = 0;
    std::vector<std::pair<std::string, std::string>> headers;  // as received, names any case
    std::string body;                                          // the first max_body bytes at most
    bool truncated = false;                                    // the body was longer than max_body
};

struct ComparisonResult {
    bool comparable = true;
    std::vector<std::string> fields;  // sorted, unique; empty: equal
    bool operator==(const ComparisonResult&) const = default;
};

ComparisonResult compare_responses(const CapturedResponse& a, const CapturedResponse& b,
                                   const ShadowDiffSettings& settings);

}  // namespace switchyard
