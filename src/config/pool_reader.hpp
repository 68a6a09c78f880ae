// The [pools.NAME] tables of switchyard.toml (private to src/config): each
// pool's servers, balance, retries and limits, health checks, outlier
// ejection, min_healthy and upstream TLS. Routing, read after the pools,
// checks the names it gives against them (config_loader.cpp).
#pragma once

#include <vector>

#include "switchyard/core/settings.hpp"
#include "toml_reader.hpp"

namespace switchyard::config::detail {

// The `pools` table of the file's top level `top`, in the file's order;
// "at least one pool is required" when it is missing or empty.
void read_pools(Sink& sink, const TableReader& top, std::vector<PoolSettings>& out);

}  // namespace switchyard::config::detail
