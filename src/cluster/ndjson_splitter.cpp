#include "switchyard/cluster/ndjson_splitter.hpp"

namespace switchyard::cluster {

void NdjsonSplitter::fail() {
    failed_ = true;
    std::string().swap(buffer_);
    start_ = scanned_ = tail_size_ = 0;
}

void NdjsonSplitter::feed(std::string_view bytes) {
    if (failed_) return;
    const std::size_t last_newline = bytes.rfind('\n');
    tail_size_ = last_newline == std::string_view::npos ? tail_size_ + bytes.size()
                                                        : bytes.size() - last_newline - 1;
    // The tail is one line's beginning: refuse before holding more than a
    // line may be (plus its '\r').
    if (tail_size_ > max_line_ + 1) {
        fail();
        return;
    }
    // Compact lazily: only what was already taken, and only when it is
    // most of the buffer, so that each byte moves O(1) times.
    if (start_ > 0 && start_ >= buffer_.size() / 2) {
        buffer_.erase(0, start_);
        start_ = 0;
    }
    buffer_.append(bytes);
}

std::optional<std::string> NdjsonSplitter::next_line() {
    while (!failed_) {
        const std::size_t newline = buffer_.find('\n', start_ + scanned_);
        if (newline == std::string::npos) {
            scanned_ = buffer_.size() - start_;
            return std::nullopt;
        }
        std::size_t end = newline;
        if (end > start_ && buffer_[end - 1] == '\r') --end;
        if (end - start_ > max_line_) {
            fail();
            return std::nullopt;
        }
        std::string line = buffer_.substr(start_, end - start_);
        start_ = newline + 1;
        scanned_ = 0;
        if (start_ == buffer_.size()) {  // all taken: reuse the storage from its start
            buffer_.clear();
            start_ = 0;
        }
        if (!line.empty()) return line;
    }
    return std::nullopt;
}

}  // namespace switchyard::cluster
