#include "switchyard/http/tls_ticket_keys.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <mutex>

namespace switchyard::http {
namespace {

// Keys are secrets: wipe the copies we drop.
void wipe(TicketKeys::Key& key) {
    OPENSSL_cleanse(&key, sizeof key);
}

bool random_key(TicketKeys::Key& key, std::string& error) {
    if (RAND_bytes(key.name.data(), int(key.name.size())) == 1 &&
        RAND_bytes(key.aes.data(), int(key.aes.size())) == 1 &&
        RAND_bytes(key.hmac.data(), int(key.hmac.size())) == 1)
        return true;
    wipe(key);
    error = "cannot generate a session ticket key: the random generator failed";
    return false;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool set_hmac_key(EVP_MAC_CTX* mac, TicketKeys::Key& key) {
    char digest[] = "sha256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, key.hmac.data(), key.hmac.size()),
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    return EVP_MAC_CTX_set_params(mac, params) == 1;
}

}  // namespace

TicketKeys::TicketKeys(std::vector<Key> keys, std::size_t previous_keys)
    : keys_(std::move(keys)), previous_keys_(previous_keys) {}

TicketKeys::~TicketKeys() {
    for (auto& key : keys_)
        wipe(key);
}

std::shared_ptr<TicketKeys> TicketKeys::generate(std::string& error, std::size_t previous_keys) {
    std::vector<Key> keys(1);
    if (!random_key(keys[0], error)) return nullptr;
    return std::shared_ptr<TicketKeys>(new TicketKeys(std::move(keys), previous_keys));
}

std::shared_ptr<TicketKeys> TicketKeys::import_hex(std::string_view exported, std::string& error,
                                                   std::size_t previous_keys) {
    constexpr std::size_t kHexPerKey = 2 * kKeySize;
    if (exported.empty() || exported.size() % kHexPerKey != 0) {
        error = "session ticket keys: expected a multiple of " + std::to_string(kHexPerKey) +
                " hex digits, got " + std::to_string(exported.size());
        return nullptr;
    }
    std::vector<Key> keys(std::min(exported.size() / kHexPerKey, previous_keys + 1));
    for (std::size_t k = 0; k < keys.size(); ++k) {
        unsigned char raw[kKeySize];
        for (std::size_t i = 0; i < kKeySize; ++i) {
            const int hi = hex_value(exported[k * kHexPerKey + 2 * i]);
            const int lo = hex_value(exported[k * kHexPerKey + 2 * i + 1]);
            if (hi < 0 || lo < 0) {
                OPENSSL_cleanse(raw, sizeof raw);
                for (auto& key : keys)
                    wipe(key);
                error = "session ticket keys: not hex";
                return nullptr;
            }
            raw[i] = static_cast<unsigned char>(hi << 4 | lo);
        }
        std::memcpy(keys[k].name.data(), raw, kNameSize);
        std::memcpy(keys[k].aes.data(), raw + kNameSize, kAesKeySize);
        std::memcpy(keys[k].hmac.data(), raw + kNameSize + kAesKeySize, kHmacKeySize);
        OPENSSL_cleanse(raw, sizeof raw);
    }
    return std::shared_ptr<TicketKeys>(new TicketKeys(std::move(keys), previous_keys));
}

bool TicketKeys::rotate(std::string& error) {
    Key fresh;
    if (!random_key(fresh, error)) return false;
    std::unique_lock lock(mutex_);
    keys_.insert(keys_.begin(), fresh);
    while (keys_.size() > previous_keys_ + 1) {
        wipe(keys_.back());
        keys_.pop_back();
    }
    lock.unlock();
    wipe(fresh);
    return true;
}

std::string TicketKeys::export_hex() const {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::shared_lock lock(mutex_);
    std::string out;
    out.reserve(keys_.size() * 2 * kKeySize);
    auto put = [&](std::span<const unsigned char> bytes) {
        for (unsigned char b : bytes) {
            out += kDigits[b >> 4];
            out += kDigits[b & 0xf];
        }
    };
    for (const auto& key : keys_) {
        put(key.name);
        put(key.aes);
        put(key.hmac);
    }
    return out;
}

std::size_t TicketKeys::size() const {
    std::shared_lock lock(mutex_);
    return keys_.size();
}

TicketKeys::Key TicketKeys::current() const {
    std::shared_lock lock(mutex_);
    return keys_.front();
}

std::optional<TicketKeys::Key> TicketKeys::find(std::span<const unsigned char, kNameSize> name,
                                                bool& is_current) const {
    std::shared_lock lock(mutex_);
    for (std::size_t i = 0; i < keys_.size(); ++i) {
        if (std::equal(name.begin(), name.end(), keys_[i].name.begin())) {
            is_current = i == 0;
            return keys_[i];
        }
    }
    return std::nullopt;
}

int TicketKeys::init_ticket_crypto(unsigned char* key_name, unsigned char* iv,
                                   EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac, int enc) const {
    const EVP_CIPHER* aes = EVP_aes_256_cbc();
    if (enc != 0) {
        Key key = current();
        int result = -1;
        if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(aes)) == 1 && set_hmac_key(mac, key) &&
            EVP_EncryptInit_ex(cipher, aes, nullptr, key.aes.data(), iv) == 1) {
            std::memcpy(key_name, key.name.data(), kNameSize);
            result = 1;
        }
        wipe(key);
        return result;
    }
    bool is_current = false;
    auto key = find(std::span<const unsigned char, kNameSize>(key_name, kNameSize), is_current);
    if (!key) return 0;  // rotated out (or never ours): a full handshake
    int result = -1;
    if (set_hmac_key(mac, *key) &&
        EVP_DecryptInit_ex(cipher, aes, nullptr, key->aes.data(), iv) == 1)
        result = is_current ? 1 : 2;
    wipe(*key);
    return result;
}

}  // namespace switchyard::http
