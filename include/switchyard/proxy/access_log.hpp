// Access log: one JSON line per request, kept off the request path.
//
// Each worker appends lines to its own AccessLogBuffer (no lock). The worker
// hands a full or aged buffer to the AccessLogWriter in one call (one mutex
// acquisition per batch, not per request); a writer thread writes batches to
// the file. When the writer falls behind, whole batches are dropped and
// counted, never blocking a worker.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

namespace switchyard::proxy {

class AccessLogWriter {
  public:
    // `target`: a path, "stdout", "stderr" or "off". Throws std::runtime_error
    // if the file cannot be opened.
    explicit AccessLogWriter(const std::string& target, std::size_t max_pending_bytes = 64u << 20);
    ~AccessLogWriter();
    AccessLogWriter(const AccessLogWriter&) = delete;
    AccessLogWriter& operator=(const AccessLogWriter&) = delete;

    bool enabled() const { return enabled_; }
    // Takes the batch (leaves `batch` empty but with capacity to reuse).
    void submit(std::string& batch);
    // Writes everything queued so far (used at shutdown and by tests).
    void flush();
    // Log rotation (SIGUSR1): opens the target path again now (created with
    // mode 0640 like the first time). Batches submitted before this call are
    // still written to the old file, later ones to the new one; the writer
    // thread switches between two batches, so no line is split or lost. If
    // the open fails, the old file stays in use and `error` is "cannot reopen
    // access log PATH: reason". stdout, stderr and off: nothing to do.
    bool reopen(std::string& error);
    std::uint64_t dropped_lines() const { return dropped_lines_.load(std::memory_order_relaxed); }

  private:
    struct PendingReopen {
        std::uint64_t after_batches;  // applies once this many batches were taken
        int fd;
    };

    void run();
    void apply_reopens();  // writer thread, mu_ held

    std::string path_;  // the target when it is a file
    bool enabled_ = false;
    int fd_ = -1;  // after the constructor, only the writer thread uses it
    bool owns_fd_ = false;
    std::size_t max_pending_bytes_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::condition_variable idle_cv_;
    std::deque<std::string> queue_;
    std::deque<std::string> spare_;  // written batches returned for reuse
    std::size_t pending_bytes_ = 0;
    bool writing_ = false;
    std::uint64_t submitted_batches_ = 0;
    std::uint64_t taken_batches_ = 0;
    std::deque<PendingReopen> reopens_;
    bool stop_ = false;
    std::atomic<std::uint64_t> dropped_lines_{0};
    std::thread thread_;
};

// A worker's access log buffer. Not thread-safe: owned by one worker.
class AccessLogBuffer {
  public:
    explicit AccessLogBuffer(AccessLogWriter* writer) : writer_(writer) {}
    bool enabled() const { return writer_ != nullptr && writer_->enabled(); }
    std::string& line_buffer() { return buffer_; }
    // Called after appending a line; hands the batch over when it is large.
    void line_done() {
        if (buffer_.size() >= kBatchBytes) flush();
    }
    // Called by the worker's tick so that a quiet worker's lines still appear.
    void flush() {
        if (writer_ != nullptr && !buffer_.empty()) writer_->submit(buffer_);
    }

  private:
    // About 200 lines: each hand-over wakes the writer thread (a futex call
    // on both sides), so fewer, larger batches cost less per line; a quiet
    // worker's lines still go out at its next tick.
    static constexpr std::size_t kBatchBytes = 64 * 1024;
    AccessLogWriter* writer_;
    std::string buffer_;
};

}  // namespace switchyard::proxy
