#include "switchyard/core/settings.hpp"

namespace switchyard {

std::string Endpoint::to_string() const {
    if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
    return host + ":" + std::to_string(port);
}

const PoolSettings* Settings::find_pool(std::string_view name) const {
    for (const auto& p : pools)
        if (p.name == name) return &p;
    return nullptr;
}

const FlagSettings* Settings::find_flag(std::string_view name) const {
    for (const auto& f : flags)
        if (f.name == name) return &f;
    return nullptr;
}

}  // namespace switchyard
