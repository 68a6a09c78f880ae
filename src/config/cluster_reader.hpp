// [cluster] of switchyard.toml (private to src/config): DESIGN.md "Fleet".
#pragma once

#include "switchyard/core/settings.hpp"
#include "toml_reader.hpp"

namespace switchyard::config::detail {

// The `cluster` table of the top level `top`, if present. etcd is a
// non-empty list of distinct URLs without a path, all http:// or all
// https:// (tls = { ca, cert, key } only with https; cert and key
// together; https without it sets a default tls); prefix starts with '/', has no empty
// segment and no trailing '/'; member is a host-name-like token (empty:
// the host name, filled in at start); lease_ttl is whole seconds from 2 s
// to 1 h; username and password_file come together, and the file must be
// readable and hold a password.
void read_cluster(Sink& sink, const TableReader& top, Settings& settings);

}  // namespace switchyard::config::detail
