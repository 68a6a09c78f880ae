#include "switchyard/http/body_pump.hpp"

#include <algorithm>

namespace switchyard::http {

namespace {
constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kLastChunk = "0\r\n\r\n";
}  // namespace

void BodyPump::reset(const Framing& source, bool chunked_sink, ChunkedDecoder::Limits limits) {
    kind_ = source.kind;
    chunked_sink_ = chunked_sink && source.kind == BodyKind::chunked;
    failed_ = false;
    payload_ = 0;
    remaining_ = source.kind == BodyKind::content_length ? source.length : 0;
    done_ = source.kind == BodyKind::none ||
            (source.kind == BodyKind::content_length && source.length == 0);
    if (source.kind == BodyKind::chunked) decoder_ = ChunkedDecoder(limits);
}

std::size_t BodyPump::plan(std::string_view available, std::vector<std::string_view>& out) {
    if (done_ || failed_ || available.empty()) return 0;
    switch (kind_) {
        case BodyKind::content_length: {
            auto n =
                static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, available.size()));
            out.push_back(available.substr(0, n));
            remaining_ -= n;
            payload_ += n;
            done_ = remaining_ == 0;
            return n;
        }
        case BodyKind::until_close:
            out.push_back(available);
            payload_ += available.size();
            return available.size();
        case BodyKind::chunked: {
            decoded_.clear();
            std::size_t used = decoder_.decode(available, decoded_);
            if (decoder_.failed()) {
                failed_ = true;
                return 0;
            }
            std::uint64_t n = 0;
            for (auto piece : decoded_)
                n += piece.size();
            payload_ += n;
            if (n > 0 && chunked_sink_) {
                // One chunk per write whatever the client's chunk sizes were:
                // extensions and trailers are not passed on.
                std::size_t len = write_chunk_header(n, chunk_header_);
                out.push_back({chunk_header_, len});
            }
            for (auto piece : decoded_)
                if (!piece.empty()) out.push_back(piece);
            if (n > 0 && chunked_sink_) out.push_back(kCrlf);
            if (decoder_.done()) {
                done_ = true;
                if (chunked_sink_) out.push_back(kLastChunk);
            }
            return used;
        }
        case BodyKind::none:
            return 0;
    }
    return 0;
}

void BodyPump::on_source_eof(std::vector<std::string_view>& out) {
    if (done_) return;
    if (kind_ == BodyKind::until_close) {
        done_ = true;
        if (chunked_sink_) out.push_back(kLastChunk);
        return;
    }
    failed_ = true;
}

}  // namespace switchyard::http
