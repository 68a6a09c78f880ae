#include "switchyard/control/dashboard.hpp"

// dashboard_assets() is generated (cmake/Dashboard.cmake).

namespace switchyard::control {

const DashboardAsset* find_dashboard_asset(std::string_view path) {
    for (const auto& asset : dashboard_assets())
        if (asset.path == path) return &asset;
    return nullptr;
}

}  // namespace switchyard::control
