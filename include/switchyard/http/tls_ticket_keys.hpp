// TicketKeys: the keys that seal TLS session tickets (session
// resumption).
//
// One set is shared by every worker and every listener context (each
// ServerTlsContext holds a shared_ptr), so a client that resumes on another
// worker, after a reload, or after a hot upgrade (the set is exported to the
// successor) skips the full handshake. Tickets are stateless: the server
// keeps no per-session memory.
//
// Keys: the current key seals new tickets; up to `previous_keys` older ones
// still open tickets (which are then re-issued under the current key). The
// control thread calls rotate() on a schedule; a ticket sealed with a key
// stays usable for between `previous_keys` and `previous_keys + 1` rotation
// periods (and never longer than the contexts' session timeout).
//
// Each key is 80 bytes: a 16-byte name (sent in the ticket, to find the key),
// a 32-byte AES-256-CBC key and a 32-byte HMAC-SHA256 key, all from
// RAND_bytes.
//
// Thread safety: rotate() and the readers (handshakes on any worker) may run
// concurrently; readers take a shared lock just long enough to copy one key.
#pragma once

#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard::http {

class TicketKeys {
  public:
    static constexpr std::size_t kNameSize = 16;
    static constexpr std::size_t kAesKeySize = 32;
    static constexpr std::size_t kHmacKeySize = 32;
    static constexpr std::size_t kKeySize = kNameSize + kAesKeySize + kHmacKeySize;
    static constexpr std::size_t kDefaultPreviousKeys = 2;

    struct Key {
        std::array<unsigned char, kNameSize> name{};
        std::array<unsigned char, kAesKeySize> aes{};
        std::array<unsigned char, kHmacKeySize> hmac{};
    };

    // A set with one fresh random key; nullptr (with `error`) if the random
    // generator fails.
    static std::shared_ptr<TicketKeys> generate(std::string& error,
                                                std::size_t previous_keys = kDefaultPreviousKeys);

    // A set from export_hex() (a hot upgrade's predecessor). Keys beyond
    // 1 + previous_keys are dropped. nullptr (with `error`) if the text is
    // not whole keys in lowercase or uppercase hex.
    static std::shared_ptr<TicketKeys> import_hex(std::string_view exported, std::string& error,
                                                  std::size_t previous_keys = kDefaultPreviousKeys);

    ~TicketKeys();
    TicketKeys(const TicketKeys&) = delete;
    TicketKeys& operator=(const TicketKeys&) = delete;

    // A new random current key; the oldest key beyond `previous_keys` is
    // forgotten. On failure (random generator) nothing changes.
    bool rotate(std::string& error);

    // All keys, current first, as lowercase hex (160 characters per key).
    // The text is secret: pass it only over a private channel.
    std::string export_hex() const;

    std::size_t size() const;  // current + previous keys held
    Key current() const;
    // The key named `name`; `is_current` says whether it seals new tickets.
    std::optional<Key> find(std::span<const unsigned char, kNameSize> name, bool& is_current) const;

    // OpenSSL's ticket key callback (SSL_CTX_set_tlsext_ticket_key_evp_cb),
    // minus the SSL*: for enc = 1, picks the current key, writes its name and
    // a random IV, and sets up the cipher and MAC; for enc = 0, looks the name
    // up. Returns -1 on error, 0 for an unknown key (full handshake), 1 when
    // the ticket is opened with the current key, 2 when with a previous key
    // (OpenSSL then issues a fresh ticket).
    int init_ticket_crypto(unsigned char* key_name, unsigned char* iv, EVP_CIPHER_CTX* cipher,
                           EVP_MAC_CTX* mac, int enc) const;

  private:
    TicketKeys(std::vector<Key> keys, std::size_t previous_keys);

    mutable std::shared_mutex mutex_;
    std::vector<Key> keys_;  // current first; never empty
    std::size_t previous_keys_;
};

}  // namespace switchyard::http
