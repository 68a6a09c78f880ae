// What the end of an attempt says about its upstream server, for outlier
// detection and the server's failure counts. Pure.
#pragma once

#include <optional>

#include "switchyard/core/outlier_policy.hpp"
#include "switchyard/proxy/proxy_error.hpp"

namespace switchyard::proxy {

// An attempt that ended with `error`, or (error none) with the upstream's
// `status`. Nothing when it says nothing about the server: the client's
// doing or the proxy's (a timeout reading the client, a drain cut), or no
// response at all.
std::optional<PassiveResult> passive_report(ErrorKind error, unsigned status);

}  // namespace switchyard::proxy
