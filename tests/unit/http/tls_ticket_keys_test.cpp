#include "switchyard/http/tls_ticket_keys.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <string>
#include <thread>
#include <vector>

namespace switchyard::http {
namespace {

using Name = std::span<const unsigned char, TicketKeys::kNameSize>;

TEST(TicketKeys, StartsWithOneRandomKey) {
    std::string error;
    auto a = TicketKeys::generate(error);
    auto b = TicketKeys::generate(error);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->size(), 1u);
    EXPECT_EQ(TicketKeys::kKeySize, 80u);
    EXPECT_EQ(a->export_hex().size(), 160u);
    EXPECT_NE(a->export_hex(), b->export_hex());
}

TEST(TicketKeys, RotationKeepsPreviousKeysForOpeningOnly) {
    std::string error;
    auto keys = TicketKeys::generate(error, 2);
    ASSERT_NE(keys, nullptr);
    const auto first = keys->current();
    bool is_current = false;
    ASSERT_TRUE(keys->find(Name(first.name), is_current));
    EXPECT_TRUE(is_current);

    ASSERT_TRUE(keys->rotate(error));
    EXPECT_EQ(keys->size(), 2u);
    EXPECT_NE(keys->current().name, first.name);
    auto found = keys->find(Name(first.name), is_current);
    ASSERT_TRUE(found);
    EXPECT_FALSE(is_current);
    EXPECT_EQ(found->aes, first.aes);
    EXPECT_EQ(found->hmac, first.hmac);

    ASSERT_TRUE(keys->rotate(error));
    EXPECT_EQ(keys->size(), 3u);
    EXPECT_TRUE(keys->find(Name(first.name), is_current));
    ASSERT_TRUE(keys->rotate(error));
    EXPECT_EQ(keys->size(), 3u);  // current + 2 previous
    EXPECT_FALSE(keys->find(Name(first.name), is_current));
}

TEST(TicketKeys, ExportImportRoundTrip) {
    std::string error;
    auto keys = TicketKeys::generate(error);
    ASSERT_TRUE(keys->rotate(error));
    const std::string text = keys->export_hex();
    EXPECT_EQ(text.size(), 2 * 160u);
    auto copy = TicketKeys::import_hex(text, error);
    ASSERT_NE(copy, nullptr) << error;
    EXPECT_EQ(copy->export_hex(), text);
    EXPECT_EQ(copy->current().name, keys->current().name);

    std::string upper = text;
    for (char& c : upper)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    ASSERT_NE(TicketKeys::import_hex(upper, error), nullptr);
    EXPECT_EQ(TicketKeys::import_hex(upper, error)->export_hex(), text);
}

TEST(TicketKeys, ImportKeepsOnlyWhatTheRetentionAllows) {
    std::string error;
    auto keys = TicketKeys::generate(error, 2);
    ASSERT_TRUE(keys->rotate(error) && keys->rotate(error));
    auto copy = TicketKeys::import_hex(keys->export_hex(), error, 1);
    ASSERT_NE(copy, nullptr);
    EXPECT_EQ(copy->size(), 2u);
    EXPECT_EQ(copy->export_hex(), keys->export_hex().substr(0, 320));
}

// Handshakes on every worker read while the control thread rotates.
TEST(TicketKeys, ReadersAndRotationConcurrently) {
    std::string error;
    auto keys = TicketKeys::generate(error, 2);
    ASSERT_NE(keys, nullptr);
    std::atomic<bool> stop{false};
    std::atomic<int> found{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 3; ++t) {
        readers.emplace_back([&] {
            while (!stop.load()) {
                const auto key = keys->current();
                bool is_current = false;
                // Rotated out only after two more rotations: mostly found.
                if (keys->find(Name(key.name), is_current)) found.fetch_add(1);
            }
        });
    }
    std::string rotate_error;
    // At least 200 rotations, and on until the readers have read a while.
    for (int i = 0; i < 200 || found.load() < 1000; ++i) {
        if (!keys->rotate(rotate_error)) {
            ADD_FAILURE() << rotate_error;
            break;
        }
    }
    stop = true;
    for (auto& r : readers)
        r.join();
    EXPECT_EQ(keys->size(), 3u);
}

TEST(TicketKeys, ImportRejectsBadText) {
    std::string error;
    EXPECT_EQ(TicketKeys::import_hex("", error), nullptr);
    EXPECT_EQ(error, "session ticket keys: expected a multiple of 160 hex digits, got 0");
    EXPECT_EQ(TicketKeys::import_hex(std::string(161, '0'), error), nullptr);
    EXPECT_EQ(error, "session ticket keys: expected a multiple of 160 hex digits, got 161");
    EXPECT_EQ(TicketKeys::import_hex(std::string(159, '0') + "g", error), nullptr);
    EXPECT_EQ(error, "session ticket keys: not hex");
}

}  // namespace
}  // namespace switchyard::http
