// ReopenableFileSink: an spdlog sink that appends to a file and can open the
// path again, for log rotation (SIGUSR1, the logrotate convention). After
// logrotate renames the file, reopen() makes the lines that follow go to a new
// file at the configured path; lines logged before are in the renamed one.
//
// Every message is one write(2) on an O_APPEND descriptor (no stdio buffer), so
// a line is never split between the two files and nothing waits in a buffer.
#pragma once

#include <spdlog/sinks/base_sink.h>

#include <mutex>
#include <string>

namespace switchyard::app {

class ReopenableFileSink final : public spdlog::sinks::base_sink<std::mutex> {
  public:
    // Creates the parent directory if needed (as spdlog's file sink did) and
    // opens `path` for appending, creating it with mode 0640 (less the umask).
    // Throws std::runtime_error naming the file and the reason.
    explicit ReopenableFileSink(std::string path);
    ~ReopenableFileSink() override;
    ReopenableFileSink(const ReopenableFileSink&) = delete;
    ReopenableFileSink& operator=(const ReopenableFileSink&) = delete;

    const std::string& path() const { return path_; }

    // Opens the path again (same flags and mode; the directory is not
    // created) and switches to it between two messages. On failure the old
    // file stays in use and `error` is "cannot reopen PATH: reason".
    bool reopen(std::string& error);

  protected:
    void sink_it_(const spdlog::details::log_msg& msg) override;
    void flush_() override {}  // nothing is buffered

  private:
    std::string path_;
    int fd_ = -1;  // guarded by base_sink's mutex_
};

}  // namespace switchyard::app
