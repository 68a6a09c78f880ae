#include "switchyard/app/reopenable_file_sink.hpp"

#include <fcntl.h>
#include <spdlog/details/os.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace switchyard::app {

namespace {
int open_append(const std::string& path) {
    return ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
}
}  // namespace

ReopenableFileSink::ReopenableFileSink(std::string path) : path_(std::move(path)) {
    const auto dir = spdlog::details::os::dir_name(path_);
    if (!dir.empty()) spdlog::details::os::create_dir(dir);  // open() below reports a failure
    fd_ = open_append(path_);
    if (fd_ < 0)
        throw std::runtime_error("cannot open log file " + path_ + ": " + std::strerror(errno));
}

ReopenableFileSink::~ReopenableFileSink() {
    if (fd_ >= 0) ::close(fd_);
}

bool ReopenableFileSink::reopen(std::string& error) {
    // Opened outside the lock: a slow open does not hold up the loggers.
    const int fd = open_append(path_);
    if (fd < 0) {
        error = "cannot reopen " + path_ + ": " + std::strerror(errno);
        return false;
    }
    int old = fd;
    {
        std::lock_guard lock(mutex_);
        std::swap(old, fd_);
    }
    ::close(old);
    return true;
}

void ReopenableFileSink::sink_it_(const spdlog::details::log_msg& msg) {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    const char* p = formatted.data();
    std::size_t left = formatted.size();
    while (left > 0) {
        const ssize_t n = ::write(fd_, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // a failing log must not stop the process
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

}  // namespace switchyard::app
