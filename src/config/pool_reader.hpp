// The [pools.NAME] tables of switchyard.toml (private to src/config): each
// pool's servers, balance, retries and limits, health checks, outlier
// ejection, min_healthy and upstream TLS. Routing, read after the pools,
// checks the names it gives against them (config_loader.cpp).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "switchyard/core/settings.hpp"
#include "toml_reader.hpp"

namespace switchyard::config::detail {

// The `pools` table of the file's top level `top`, in the file's order;
// "at least one pool is required" when it is missing or empty.
void read_pools(Sink& sink, const TableReader& top, std::vector<PoolSettings>& out);

// `no pool named "gren" (pools: blue, green); did you mean "green"?`
std::string no_such_pool(std::string_view name, const std::vector<PoolSettings>& pools);
// For a default pool name ("blue") that names no pool of the file.
std::string default_names_no_pool(std::string_view name, const std::vector<PoolSettings>& pools);

}  // namespace switchyard::config::detail
