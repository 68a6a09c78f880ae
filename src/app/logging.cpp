#include "switchyard/app/logging.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace switchyard::app {

std::shared_ptr<spdlog::logger> make_error_logger(const LogSettings& settings) {
    spdlog::sink_ptr sink;
    if (settings.error_log == "stderr" || settings.error_log.empty())
        sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    else if (settings.error_log == "stdout")
        sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
    else
        sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(settings.error_log);
    auto logger = std::make_shared<spdlog::logger>("switchyard", std::move(sink));
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %l %v");
    logger->set_level(spdlog::level::from_str(settings.level));
    logger->flush_on(spdlog::level::info);
    return logger;
}

}  // namespace switchyard::app
