#include "switchyard/http/body_pump.hpp"

#include <algorithm>

#include "switchyard/core/text.hpp"
#include "switchyard/http/field_rules.hpp"

namespace switchyard::http {

namespace {
constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kLastChunk = "0\r\n\r\n";
constexpr std::string_view kLastChunkLine = "0\r\n";

// Keeps the field lines of `lines` ("Name: value\r\n" each) that may be
// passed on, in order, in place.
void filter_trailer(std::string& lines, std::span<const std::string> also_drop) {
    std::size_t kept = 0;
    for (std::size_t pos = 0; pos < lines.size();) {
        const std::size_t end = lines.find("\r\n", pos) + 2;  // every line has its CRLF
        const std::string_view line(lines.data() + pos, end - pos);
        const std::string_view name = line.substr(0, line.find(':'));
        if (!is_dropped_trailer_field(name) && !is_one_of(also_drop, name)) {
            if (kept != pos) std::copy(line.begin(), line.end(), lines.begin() + kept);
            kept += line.size();
        }
        pos = end;
    }
    lines.resize(kept);
}
}  // namespace

void BodyPump::reset(const Framing& source, bool chunked_sink, ChunkedDecoder::Limits limits,
                     std::span<const std::string> drop_trailers) {
    kind_ = source.kind;
    chunked_sink_ = chunked_sink && source.kind == BodyKind::chunked;
    failed_ = false;
    payload_ = 0;
    remaining_ = source.kind == BodyKind::content_length ? source.length : 0;
    done_ = source.kind == BodyKind::none ||
            (source.kind == BodyKind::content_length && source.length == 0);
    trailer_.clear();
    drop_trailers_ = drop_trailers;
    if (source.kind == BodyKind::chunked) {
        decoder_ = ChunkedDecoder(limits);
        if (chunked_sink_) decoder_.capture_trailers(&trailer_);
    }
}

std::size_t BodyPump::plan(std::string_view available, std::vector<std::string_view>& out) {
    single_ = {};
    decoded_.clear();
    if (done_ || failed_ || available.empty()) return 0;
    switch (kind_) {
        case BodyKind::content_length: {
            auto n =
                static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, available.size()));
            single_ = available.substr(0, n);
            out.push_back(single_);
            remaining_ -= n;
            payload_ += n;
            done_ = remaining_ == 0;
            return n;
        }
        case BodyKind::until_close:
            single_ = available;
            out.push_back(available);
            payload_ += available.size();
            return available.size();
        case BodyKind::chunked: {
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
                // extensions are not passed on.
                std::size_t len = write_chunk_header(n, chunk_header_);
                out.push_back({chunk_header_, len});
            }
            for (auto piece : decoded_)
                if (!piece.empty()) out.push_back(piece);
            if (n > 0 && chunked_sink_) out.push_back(kCrlf);
            if (decoder_.done()) {
                done_ = true;
                if (chunked_sink_) {
                    filter_trailer(trailer_, drop_trailers_);
                    if (trailer_.empty()) {
                        out.push_back(kLastChunk);
                    } else {
                        out.push_back(kLastChunkLine);
                        out.push_back(trailer_);
                        out.push_back(kCrlf);
                    }
                }
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
