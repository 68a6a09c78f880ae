// Builds the event/error logger from [log]. main passes it down explicitly:
// library code never uses spdlog's default logger.
#pragma once

#include <spdlog/logger.h>

#include <memory>

#include "switchyard/core/settings.hpp"

namespace switchyard::app {

// Throws std::runtime_error if a log file cannot be opened.
std::shared_ptr<spdlog::logger> make_error_logger(const LogSettings& settings);
// The audit log (log.audit_log): every control command with its peer.
std::shared_ptr<spdlog::logger> make_audit_logger(const LogSettings& settings);

}  // namespace switchyard::app
