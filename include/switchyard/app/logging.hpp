// Builds the event/error logger from [log]. main passes it down explicitly:
// library code never uses spdlog's default logger.
#pragma once

#include <spdlog/logger.h>

#include <memory>
#include <string>
#include <vector>

#include "switchyard/core/settings.hpp"

namespace switchyard::app {

// A target is "stderr", "stdout", "off" (nothing is written) or a path.
// Failures before the loggers exist (config errors, a log file that cannot
// be opened) go to stderr whatever the targets say.
// Throws std::runtime_error if a log file cannot be opened.
std::shared_ptr<spdlog::logger> make_error_logger(const LogSettings& settings);
// The audit log (log.audit_log): every control command with its peer.
std::shared_ptr<spdlog::logger> make_audit_logger(const LogSettings& settings);
// The ramp's event log (log.event_log): one JSON line per transition, with
// nothing around it. nullptr when event_log is empty: the events then go to
// the error log.
std::shared_ptr<spdlog::logger> make_event_logger(const LogSettings& settings);
// The records of differing mirrored answers (shadow.diff.log): one JSON
// line each. nullptr when the target is empty: they go to the error log.
std::shared_ptr<spdlog::logger> make_diff_logger(const ShadowDiffSettings& settings);

// Log rotation (SIGUSR1): opens every file the logger writes to again at its
// path (stdout and stderr are left alone). Returns one message per file that
// could not be reopened ("cannot reopen PATH: reason"); that file stays in use.
std::vector<std::string> reopen_log_files(const spdlog::logger& logger);

}  // namespace switchyard::app
