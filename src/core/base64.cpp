#include "switchyard/core/base64.hpp"

#include <array>
#include <cstdint>

namespace switchyard {

namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::uint8_t kInvalid = 0xff;

constexpr std::array<std::uint8_t, 256> make_decode_table() {
    std::array<std::uint8_t, 256> table{};
    for (auto& entry : table)
        entry = kInvalid;
    for (std::size_t i = 0; i < kAlphabet.size(); ++i)
        table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::uint8_t>(i);
    return table;
}

constexpr std::array<std::uint8_t, 256> kDecodeTable = make_decode_table();

std::uint8_t sextet(char c) {
    return kDecodeTable[static_cast<unsigned char>(c)];
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    const auto byte = [&](std::size_t at) {
        return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at]));
    };
    for (; i + 3 <= bytes.size(); i += 3) {
        const std::uint32_t group = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
        out += kAlphabet[group >> 18 & 0x3f];
        out += kAlphabet[group >> 12 & 0x3f];
        out += kAlphabet[group >> 6 & 0x3f];
        out += kAlphabet[group & 0x3f];
    }
    const std::size_t rest = bytes.size() - i;
    if (rest == 1) {
        const std::uint32_t group = byte(i) << 16;
        out += kAlphabet[group >> 18 & 0x3f];
        out += kAlphabet[group >> 12 & 0x3f];
        out += "==";
    } else if (rest == 2) {
        const std::uint32_t group = byte(i) << 16 | byte(i + 1) << 8;
        out += kAlphabet[group >> 18 & 0x3f];
        out += kAlphabet[group >> 12 & 0x3f];
        out += kAlphabet[group >> 6 & 0x3f];
        out += '=';
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) return std::nullopt;
    std::size_t padding = 0;
    if (!text.empty() && text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;
    std::string out;
    out.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        const bool last = i + 4 == text.size();
        const std::size_t data_chars = last ? 4 - padding : 4;
        std::uint32_t group = 0;
        for (std::size_t j = 0; j < data_chars; ++j) {
            const std::uint8_t value = sextet(text[i + j]);
            if (value == kInvalid) return std::nullopt;  // also an '=' before the end
            group |= static_cast<std::uint32_t>(value) << (18 - 6 * j);
        }
        out += static_cast<char>(group >> 16 & 0xff);
        if (data_chars == 2) {
            if ((group & 0xffff) != 0) return std::nullopt;  // non-zero unused bits
            continue;
        }
        out += static_cast<char>(group >> 8 & 0xff);
        if (data_chars == 3) {
            if ((group & 0xff) != 0) return std::nullopt;
            continue;
        }
        out += static_cast<char>(group & 0xff);
    }
    return out;
}

}  // namespace switchyard
