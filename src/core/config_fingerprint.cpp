#include "switchyard/core/config_fingerprint.hpp"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "keyed_hash.hpp"

namespace switchyard {

std::string config_fingerprint(const Settings& settings) {
    // Pools in name order, servers in address order: the file's order does
    // not change who goes where.
    std::vector<std::string> pools;
    for (const auto& pool : settings.pools) {
        std::vector<std::string> servers;
        for (const auto& s : pool.servers)
            servers.push_back(s.address.to_string() + "*" + std::to_string(s.weight));
        std::sort(servers.begin(), servers.end());
        std::string line = pool.name + "=";
        for (const auto& s : servers)
            line += s + ",";
        pools.push_back(std::move(line));
    }
    std::sort(pools.begin(), pools.end());
    std::string text = "seed=" + std::to_string(settings.routing.seed) + ";";
    for (const auto& p : pools)
        text += p + ";";
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx",
                  static_cast<unsigned long long>(detail::xxh64_joined({text}, 0)));
    return hex;
}

}  // namespace switchyard
