// The I/O-free half of the etcd client (DESIGN.md, "Fleet"): what is sent to
// etcd 3.4's HTTP/JSON gateway and what its answers mean. One header per
// component; this one gathers them for the client.
#pragma once

#include "switchyard/cluster/etcd_requests.hpp"    // IWYU pragma: export
#include "switchyard/cluster/etcd_responses.hpp"   // IWYU pragma: export
#include "switchyard/cluster/ndjson_splitter.hpp"  // IWYU pragma: export
