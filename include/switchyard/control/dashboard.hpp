// The live traffic dashboard of the admin listener: a page, a
// script and a style sheet from src/control/dashboard/, compiled into the
// binary (cmake/Dashboard.cmake), so the page needs nothing from another
// origin and is served with `Content-Security-Policy: default-src 'self'`.
// The page polls GET /status and draws from it; it changes nothing.
#pragma once

#include <span>
#include <string_view>

namespace switchyard::control {

struct DashboardAsset {
    std::string_view path;          // "/" (index.html), "/dashboard.js", ...
    std::string_view content_type;  // with charset for text
    std::string_view body;
};

// Every embedded file, sorted by file name.
std::span<const DashboardAsset> dashboard_assets();

// The asset served at `path` (a request target without its query), or
// nullptr.
const DashboardAsset* find_dashboard_asset(std::string_view path);

}  // namespace switchyard::control
