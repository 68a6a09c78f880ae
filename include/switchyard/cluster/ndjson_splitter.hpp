// Splits etcd's watch stream into messages. The gateway writes each
// WatchResponse as one JSON object and a '\n' (newline-delimited JSON); the
// HTTP layer has already removed the chunked framing, and chunk boundaries
// fall anywhere, so bytes are buffered until a line is whole.
//
// Bounded: a line longer than max_line (or an unterminated tail that grew
// past it) puts the splitter in a failed state for good, its buffer freed;
// the caller drops the connection and watches again.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace switchyard::cluster {

class NdjsonSplitter {
  public:
    static constexpr std::size_t kDefaultMaxLine = 4 * 1024 * 1024;

    explicit NdjsonSplitter(std::size_t max_line = kDefaultMaxLine) : max_line_(max_line) {}

    // Ignored once failed().
    void feed(std::string_view bytes);

    // The next whole line without its "\n" (nor a "\r" before it); empty
    // lines are skipped. nullopt: no whole line yet, or failed().
    std::optional<std::string> next_line();

    // Bytes held: lines not yet taken and the unterminated tail.
    std::size_t buffered() const noexcept { return buffer_.size() - start_; }
    bool failed() const noexcept { return failed_; }

  private:
    void fail();

    std::string buffer_;
    std::size_t start_ = 0;      // where the next line begins
    std::size_t scanned_ = 0;    // bytes from start_ known to hold no '\n'
    std::size_t tail_size_ = 0;  // bytes after the last '\n' in buffer_
    std::size_t max_line_;
    bool failed_ = false;
};

}  // namespace switchyard::cluster
