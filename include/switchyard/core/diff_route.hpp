// The route a mirrored request's comparison is counted under (DESIGN.md
// "Dark launch", `diff`). Pure: standard library only.
//
// The target's query (from the first '?') and fragment (from the first '#')
// are dropped and the path is compared raw: no percent-decoding, no
// dot-segment removal, case-sensitive, so "/a%2Fb" and "/a/b" are different
// routes. An absolute-form target ("http://host/a/b") is reduced to its
// path first. Then:
//
// - The first configured pattern that matches the path is the route, spelt
//   as in the configuration. Patterns match segment by segment (segments
//   are the pieces between '/'): a literal segment matches itself, "*"
//   matches exactly one segment (any text, also empty), and "**" as the
//   last segment matches whatever follows, also nothing ("/static/**"
//   matches "/static", "/static/" and "/static/a/b"). "**" anywhere else is
//   a literal. No other wildcards: "a*" is a literal.
// - Else the path up to (not including) its third '/', that is its first
//   two segments: "/api/users/42" -> "/api/users", "/api/" -> "/api/",
//   "/health" -> "/health", "/" -> "/", "" -> "/".
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace switchyard {

// The path of a request target as diff_route reads it: no query, no
// fragment, the authority of an absolute-form target removed; "/" when
// nothing is left.
std::string_view diff_route_path(std::string_view target) noexcept;

// Does `path` (as from diff_route_path) match `pattern` (rules above)?
bool diff_route_matches(std::string_view pattern, std::string_view path) noexcept;

std::string diff_route(std::string_view target, std::span<const std::string> patterns);

}  // namespace switchyard
