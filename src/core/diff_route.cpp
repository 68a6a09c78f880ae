#include "switchyard/core/diff_route.hpp"

#include <cstddef>

namespace switchyard {
namespace {

// Takes the first segment off `rest` (which starts just after a '/'); `more`
// turns false when it was the last one.
std::string_view next_segment(std::string_view& rest, bool& more) noexcept {
    const std::size_t slash = rest.find('/');
    if (slash == std::string_view::npos) {
        const std::string_view segment = rest;
        rest = {};
        more = false;
        return segment;
    }
    const std::string_view segment = rest.substr(0, slash);
    rest.remove_prefix(slash + 1);
    return segment;
}

}  // namespace

std::string_view diff_route_path(std::string_view target) noexcept {
    target = target.substr(0, target.find_first_of("?#"));
    if (!target.starts_with('/')) {
        // Absolute form: scheme "://" authority path. Anything else that is
        // not origin form ("*", authority form) has no path.
        const std::size_t scheme_end = target.find("://");
        if (scheme_end == std::string_view::npos) return "/";
        const std::size_t path_start = target.find('/', scheme_end + 3);
        if (path_start == std::string_view::npos) return "/";
        target.remove_prefix(path_start);
    }
    return target;
}

bool diff_route_matches(std::string_view pattern, std::string_view path) noexcept {
    // Both start with '/' (a pattern without one never matches a path).
    if (!pattern.starts_with('/') || !path.starts_with('/')) return false;
    pattern.remove_prefix(1);
    path.remove_prefix(1);
    bool pattern_more = true;
    bool path_more = true;
    while (pattern_more) {
        const std::string_view want = next_segment(pattern, pattern_more);
        if (want == "**" && !pattern_more) return true;  // the rest, also nothing
        if (!path_more) return false;                    // the path ran out first
        const std::string_view have = next_segment(path, path_more);
        if (want != "*" && want != have) return false;
    }
    return !path_more;  // the path must not have segments left over
}

std::string diff_route(std::string_view target, std::span<const std::string> patterns) {
    const std::string_view path = diff_route_path(target);
    for (const std::string& pattern : patterns)
        if (diff_route_matches(pattern, path)) return pattern;
    // The first two segments: up to the third '/'.
    std::size_t slashes = 0;
    for (std::size_t i = 0; i < path.size(); ++i)
        if (path[i] == '/' && ++slashes == 3) return std::string(path.substr(0, i));
    return std::string(path);
}

}  // namespace switchyard
