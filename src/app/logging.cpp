#include "switchyard/app/logging.hpp"

#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "switchyard/app/reopenable_file_sink.hpp"

namespace switchyard::app {

namespace {
spdlog::sink_ptr make_sink(const std::string& target) {
    // "off" is a target, never a file name.
    if (target == "off") return std::make_shared<spdlog::sinks::null_sink_mt>();
    if (target == "stderr" || target.empty())
        return std::make_shared<spdlog::sinks::stderr_sink_mt>();
    if (target == "stdout") return std::make_shared<spdlog::sinks::stdout_sink_mt>();
    return std::make_shared<ReopenableFileSink>(target);
}
// JSON lines with nothing around them; nullptr for an empty target.
std::shared_ptr<spdlog::logger> make_json_lines_logger(std::string name,
                                                       const std::string& target) {
    if (target.empty()) return nullptr;
    auto logger = std::make_shared<spdlog::logger>(std::move(name), make_sink(target));
    logger->set_pattern("%v");
    logger->set_level(spdlog::level::info);
    logger->flush_on(spdlog::level::info);
    return logger;
}

}  // namespace

std::shared_ptr<spdlog::logger> make_event_logger(const LogSettings& settings) {
    return make_json_lines_logger("event", settings.event_log);
}

std::shared_ptr<spdlog::logger> make_diff_logger(const ShadowDiffSettings& settings) {
    return make_json_lines_logger("diff", settings.log);
}

std::shared_ptr<spdlog::logger> make_audit_logger(const LogSettings& settings) {
    auto logger = std::make_shared<spdlog::logger>("audit", make_sink(settings.audit_log));
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z [%P] audit %v");
    logger->set_level(spdlog::level::info);
    logger->flush_on(spdlog::level::info);
    return logger;
}

std::shared_ptr<spdlog::logger> make_error_logger(const LogSettings& settings) {
    auto logger = std::make_shared<spdlog::logger>("switchyard", make_sink(settings.error_log));
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z [%P] %l %v");
    logger->set_level(spdlog::level::from_str(settings.level));
    logger->flush_on(spdlog::level::info);
    return logger;
}

std::vector<std::string> reopen_log_files(const spdlog::logger& logger) {
    std::vector<std::string> errors;
    for (const auto& sink : logger.sinks()) {
        if (auto file = std::dynamic_pointer_cast<ReopenableFileSink>(sink)) {
            std::string error;
            if (!file->reopen(error)) errors.push_back(std::move(error));
        }
    }
    return errors;
}

}  // namespace switchyard::app
