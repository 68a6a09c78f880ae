#include "switchyard/proxy/access_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace switchyard::proxy {

namespace {
int open_append(const std::string& path) {
    return ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
}
}  // namespace

AccessLogWriter::AccessLogWriter(const std::string& target, std::size_t max_pending_bytes)
    : max_pending_bytes_(max_pending_bytes) {
    if (target == "off" || target.empty()) return;
    if (target == "stdout") {
        fd_ = STDOUT_FILENO;
    } else if (target == "stderr") {
        fd_ = STDERR_FILENO;
    } else {
        fd_ = open_append(target);
        if (fd_ < 0)
            throw std::runtime_error("cannot open access log " + target + ": " +
                                     std::strerror(errno));
        owns_fd_ = true;
        path_ = target;
    }
    enabled_ = true;
    thread_ = std::thread([this] { run(); });
}

AccessLogWriter::~AccessLogWriter() {
    if (thread_.joinable()) {
        {
            std::lock_guard lock(mu_);
            stop_ = true;
        }
        cv_.notify_one();
        thread_.join();
    }
    if (owns_fd_) ::close(fd_);
}

void AccessLogWriter::submit(std::string& batch) {
    if (batch.empty()) return;
    std::string replacement;
    {
        std::lock_guard lock(mu_);
        if (pending_bytes_ + batch.size() > max_pending_bytes_) {
            std::size_t lines = 0;
            for (char c : batch)
                lines += c == '\n';
            dropped_lines_.fetch_add(lines, std::memory_order_relaxed);
            batch.clear();
            return;
        }
        pending_bytes_ += batch.size();
        queue_.push_back(std::move(batch));
        ++submitted_batches_;
        if (!spare_.empty()) {
            replacement = std::move(spare_.back());
            spare_.pop_back();
        }
    }
    cv_.notify_one();
    batch = std::move(replacement);
    batch.clear();
}

void AccessLogWriter::flush() {
    std::unique_lock lock(mu_);
    idle_cv_.wait(lock, [this] { return queue_.empty() && !writing_ && reopens_.empty(); });
}

bool AccessLogWriter::reopen(std::string& error) {
    if (!owns_fd_) return true;
    // Opened here (the control thread), so a failure is known at once and
    // the writer thread only swaps descriptors.
    const int fd = open_append(path_);
    if (fd < 0) {
        error = "cannot reopen access log " + path_ + ": " + std::strerror(errno);
        return false;
    }
    {
        std::lock_guard lock(mu_);
        reopens_.push_back({submitted_batches_, fd});
    }
    cv_.notify_one();
    return true;
}

void AccessLogWriter::apply_reopens() {
    while (!reopens_.empty() && reopens_.front().after_batches <= taken_batches_) {
        ::close(fd_);
        fd_ = reopens_.front().fd;
        reopens_.pop_front();
    }
}

void AccessLogWriter::run() {
    std::unique_lock lock(mu_);
    for (;;) {
        // A pending reopen waits for the batches submitted before it, so
        // when it cannot apply yet, the queue is not empty.
        cv_.wait(lock, [this] { return stop_ || !queue_.empty() || !reopens_.empty(); });
        apply_reopens();
        if (queue_.empty()) {
            idle_cv_.notify_all();
            if (stop_) return;
            continue;
        }
        std::string batch = std::move(queue_.front());
        queue_.pop_front();
        ++taken_batches_;
        writing_ = true;
        lock.unlock();
        const char* p = batch.data();
        std::size_t left = batch.size();
        while (left > 0) {
            ssize_t n = ::write(fd_, p, left);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;  // a failing log must not stop the proxy
            p += n;
            left -= static_cast<std::size_t>(n);
        }
        lock.lock();
        writing_ = false;
        pending_bytes_ -= batch.size();
        batch.clear();
        if (spare_.size() < 16) spare_.push_back(std::move(batch));
        if (queue_.empty()) idle_cv_.notify_all();
    }
}

}  // namespace switchyard::proxy
