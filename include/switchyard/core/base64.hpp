// Base64 (RFC 4648 §4: standard alphabet, '=' padding). etcd's HTTP/JSON
// gateway carries every key and value as base64, and the cluster layer needs
// it without pulling Boost into core.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace switchyard {

std::string base64_encode(std::string_view bytes);

// Strict: the length is a multiple of 4, '=' only as the last one or two
// characters, nothing outside the alphabet (no whitespace, no URL-safe '-'
// or '_'), and the bits a final group leaves unused are zero (RFC 4648 §3.5),
// so that every accepted text is the one base64_encode would write. nullopt
// on anything else: a corrupted value must not decode to other bytes.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace switchyard
