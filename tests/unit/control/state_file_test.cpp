#include "switchyard/control/state_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace switchyard::control {
namespace {

namespace fs = std::filesystem;

RuntimeState known_state() {
    RuntimeState s;
    s.active = "green";
    s.previous = "blue";
    s.canary_pool = "blue";
    s.canary_weight_bp = 1250;
    s.generation = 42;
    s.servers["blue"]["127.0.0.1:9001"] = {AdminState::draining, std::nullopt};
    s.servers["blue"]["127.0.0.1:9002"] = {AdminState::enabled, 7u};
    s.servers["green"]["[::1]:9101"] = {AdminState::disabled, std::nullopt};
    return s;
}

const char* const kKnownJson =
    R"({"version":1,"active":"green","previous":"blue","canary":{"pool":"blue","weight":12.50},)"
    R"("generation":42,"servers":{"blue":{"127.0.0.1:9001":{"state":"draining"},)"
    R"("127.0.0.1:9002":{"state":"enabled","weight":7}},)"
    R"("green":{"[::1]:9101":{"state":"disabled"}}}})";

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void write_file(const fs::path& p, const std::string& text) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << text;
}

class StateFile : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/sy-state-test-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override { fs::remove_all(dir_); }
    fs::path dir_;
    RolloutSnapshot rollout_;
};

TEST(StateJson, ExactTextForAKnownState) {
    EXPECT_EQ(to_json(known_state()), kKnownJson);
}

// Flags: percentages with three decimals, after the servers; absent when
// the config has none, so such a file is the same as before flags existed.
TEST(StateJson, FlagsRoundTripWithThreeDecimals) {
    RuntimeState s = known_state();
    s.flags = {{"new-checkout", 5000}, {"dark.mode", 1}, {"all", 100000}};
    const std::string text = to_json(s);
    EXPECT_NE(text.find(R"("flags":{"all":100.000,"dark.mode":0.001,"new-checkout":5.000}})"),
              std::string::npos)
        << text;
    std::string error;
    auto back = from_json(text, error);
    ASSERT_TRUE(back) << error;
    EXPECT_EQ(*back, s);
    EXPECT_EQ(to_json(known_state()).find("flags"), std::string::npos);

    const std::string head = R"({"version":1,"active":"a","previous":null,)"
                             R"("canary":{"pool":null,"weight":0},"generation":1,"flags":)";
    const std::pair<std::string, std::string> bad[] = {
        {R"([])", "\"flags\" must be an object"},
        {R"({"a b":5})", "flags: invalid flag name \"a b\""},
        {R"({"a":100.5})", "flags.a must be between 0 and 100"},
        {R"({"a":-1})", "flags.a must be between 0 and 100"},
        {R"({"a":0.0001})", "flags.a must have at most three decimals"},
        {R"({"a":"5"})", "flags.a must be a number"},
    };
    for (const auto& [flags, expected] : bad) {
        EXPECT_FALSE(from_json(head + flags + "}", error)) << flags;
        EXPECT_EQ(error, expected) << flags;
    }
    auto integer = from_json(head + R"({"a":5})" + "}", error);
    ASSERT_TRUE(integer) << error;
    EXPECT_EQ(integer->flags.at("a"), 5000u);
}

// Mirroring: after the flags, three decimals; off only when the writer must
// record it (else the file is the same as before mirroring existed).
TEST(StateJson, ShadowRoundTripsAndOffIsWrittenOnRequest) {
    RuntimeState s = known_state();
    s.flags = {{"a", 1}};
    s.shadow = {"green", 12345, true};
    const std::string text = to_json(s);
    EXPECT_NE(text.find(R"("flags":{"a":0.001},"shadow":{"pool":"green","percent":12.345,)"
                        R"("diff":true}})"),
              std::string::npos)
        << text;
    std::string error;
    auto back = from_json(text, error);
    ASSERT_TRUE(back) << error;
    EXPECT_EQ(*back, s);
    s.shadow = {"blue", 0, false};  // a pool at 0 %
    back = from_json(to_json(s), error);
    ASSERT_TRUE(back) << error;
    EXPECT_EQ(back->shadow, s.shadow);
    s.shadow = {};
    EXPECT_EQ(to_json(s).find("shadow"), std::string::npos);
    const std::string off = to_json(s, {}, true);
    EXPECT_NE(off.find(R"(,"shadow":{"pool":null,"percent":0.000,"diff":false}})"),
              std::string::npos)
        << off;
    back = from_json(off, error);
    ASSERT_TRUE(back) << error;
    EXPECT_EQ(back->shadow, ShadowRuntime{});
}

TEST(StateJson, ShadowIsCheckedStrictly) {
    const std::string head = R"({"version":1,"active":"a","previous":null,)"
                             R"("canary":{"pool":null,"weight":0},"generation":1,"shadow":)";
    const std::pair<std::string, std::string> bad[] = {
        {R"([])", "\"shadow\" must be an object"},
        {R"({"pool":"g","percent":5,"diff":false,"x":1})", "shadow: unknown key \"x\""},
        {R"({"percent":5,"diff":false})", "shadow: \"pool\" is missing"},
        {R"({"pool":"","percent":5,"diff":false})", "shadow: \"pool\" must be a pool name or null"},
        {R"({"pool":"g","diff":false})", "shadow: \"percent\" is missing"},
        {R"({"pool":"g","percent":100.5,"diff":false})",
         "shadow percent must be between 0 and 100"},
        {R"({"pool":"g","percent":0.0001,"diff":false})",
         "shadow percent must have at most three decimals"},
        {R"({"pool":"g","percent":"5","diff":false})", "shadow percent must be a number"},
        {R"({"pool":"g","percent":5})", "shadow: \"diff\" must be true or false"},
        {R"({"pool":"g","percent":5,"diff":1})", "shadow: \"diff\" must be true or false"},
        {R"({"pool":null,"percent":5,"diff":false})",
         "shadow percent above 0 or diff without a shadow pool"},
        {R"({"pool":null,"percent":0,"diff":true})",
         "shadow percent above 0 or diff without a shadow pool"},
    };
    std::string error;
    for (const auto& [shadow, expected] : bad) {
        EXPECT_FALSE(from_json(head + shadow + "}", error)) << shadow;
        EXPECT_EQ(error, expected) << shadow;
    }
    auto integer = from_json(head + R"({"pool":"g","percent":5,"diff":false})" + "}", error);
    ASSERT_TRUE(integer) << error;
    EXPECT_EQ(integer->shadow, (ShadowRuntime{"g", 5000, false}));
    // A file from before mirroring existed: off.
    auto old = from_json(R"({"version":1,"active":"a","previous":null,)"
                         R"("canary":{"pool":null,"weight":0},"generation":1})",
                         error);
    ASSERT_TRUE(old) << error;
    EXPECT_EQ(old->shadow, ShadowRuntime{});
}

TEST(StateJson, EmptyOptionalFieldsAreNull) {
    RuntimeState s;
    s.active = "blue";
    EXPECT_EQ(
        to_json(s),
        R"({"version":1,"active":"blue","previous":null,"canary":{"pool":null,"weight":0.00},)"
        R"("generation":0,"servers":{}})");
}

TEST(StateJson, NamesAreEscaped) {
    RuntimeState s;
    s.active = "a\"b\\c";
    auto text = to_json(s);
    EXPECT_NE(text.find(R"("active":"a\"b\\c")"), std::string::npos) << text;
    std::string error;
    auto back = from_json(text, error);
    ASSERT_TRUE(back) << error;
    EXPECT_EQ(back->active, "a\"b\\c");
}

TEST(StateJson, RoundTrip) {
    std::string error;
    auto back = from_json(to_json(known_state()), error);
    ASSERT_TRUE(back) << error;
    EXPECT_EQ(*back, known_state());
    for (std::uint32_t bp : {0u, 1u, 5u, 10u, 99u, 333u, 5000u, 9999u, 10000u}) {
        RuntimeState s;
        s.active = "blue";
        s.canary_pool = "green";
        s.canary_weight_bp = bp;
        s.generation = 18446744073709551615ull;
        auto b = from_json(to_json(s), error);
        ASSERT_TRUE(b) << error;
        EXPECT_EQ(*b, s) << bp;
    }
}

TEST(StateJson, AcceptsIntegerWeightsAndMissingServers) {
    std::string error;
    auto s = from_json(
        R"({"version":1,"active":"blue","previous":null,"canary":{"pool":"green","weight":5},"generation":3})",
        error);
    ASSERT_TRUE(s) << error;
    EXPECT_EQ(s->canary_weight_bp, 500u);
    EXPECT_TRUE(s->servers.empty());
}

TEST(StateJson, CorruptInputsAreErrors) {
    const std::string base_head = R"({"version":1,"active":"blue","previous":null,)";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"", "not JSON"},
        {"{", "not JSON"},
        {"[]", "not a JSON object"},
        {"null", "not a JSON object"},
        {R"({"version":1,"active":"blue","previous":null,"canary":{"pool":null,"weight":0},"generation":1} x)",
         "not JSON"},
        {R"({"active":"blue","previous":null,"canary":{"pool":null,"weight":0},"generation":1})",
         "\"version\" is missing"},
        {R"({"version":2,"active":"blue","previous":null,"canary":{"pool":null,"weight":0},"generation":1})",
         "unsupported \"version\" 2 (expected 1)"},
        {R"({"version":"1","active":"blue","previous":null,"canary":{"pool":null,"weight":0},"generation":1})",
         "unsupported \"version\" \"1\" (expected 1)"},
        {R"({"version":1,"previous":null,"canary":{"pool":null,"weight":0},"generation":1})",
         "\"active\" is missing"},
        {R"({"version":1,"active":"","previous":null,"canary":{"pool":null,"weight":0},"generation":1})",
         "\"active\" must be a pool name"},
        {R"({"version":1,"active":null,"previous":null,"canary":{"pool":null,"weight":0},"generation":1})",
         "\"active\" must be a pool name"},
        {R"({"version":1,"active":"blue","previous":3,"canary":{"pool":null,"weight":0},"generation":1})",
         "\"previous\" must be a pool name or null"},
        {R"({"version":1,"active":"blue","previous":null,"generation":1})",
         "\"canary\" is missing"},
        {base_head + R"("canary":"green","generation":1})", "\"canary\" must be an object"},
        {base_head + R"("canary":{"pool":1,"weight":0},"generation":1})",
         "canary: \"pool\" must be a pool name or null"},
        {base_head + R"("canary":{"pool":"g"},"generation":1})", "canary: \"weight\" is missing"},
        {base_head + R"("canary":{"pool":"g","weight":"5"},"generation":1})",
         "canary weight must be a number"},
        {base_head + R"("canary":{"pool":"g","weight":-1},"generation":1})",
         "canary weight must be between 0 and 100"},
        {base_head + R"("canary":{"pool":"g","weight":-0.5},"generation":1})",
         "canary weight must be between 0 and 100"},
        {base_head + R"("canary":{"pool":"g","weight":101},"generation":1})",
         "canary weight must be between 0 and 100"},
        {base_head + R"("canary":{"pool":"g","weight":100.01},"generation":1})",
         "canary weight must be between 0 and 100"},
        {base_head + R"("canary":{"pool":"g","weight":5.555},"generation":1})",
         "canary weight must have at most two decimals"},
        {base_head + R"("canary":{"pool":null,"weight":5},"generation":1})",
         "canary weight above 0 without a canary pool"},
        {base_head + R"("canary":{"pool":"g","weight":5,"x":1},"generation":1})",
         "canary: unknown key \"x\""},
        {base_head + R"("canary":{"pool":null,"weight":0}})", "\"generation\" is missing"},
        {base_head + R"("canary":{"pool":null,"weight":0},"generation":-1})",
         "\"generation\" must be a non-negative integer"},
        {base_head + R"("canary":{"pool":null,"weight":0},"generation":1.5})",
         "\"generation\" must be a non-negative integer"},
        {base_head + R"("canary":{"pool":null,"weight":0},"generation":1,"extra":true})",
         "state: unknown key \"extra\""},
        {base_head + R"("canary":{"pool":null,"weight":0},"generation":1,"servers":[]})",
         "\"servers\" must be an object"},
        {base_head + R"("canary":{"pool":null,"weight":0},"generation":1,"servers":{"blue":[]}})",
         "servers.blue must be an object"},
        {base_head +
             R"("canary":{"pool":null,"weight":0},"generation":1,"servers":{"blue":{"a:1":"drain"}}})",
         "servers.blue.a:1 must be an object"},
        {base_head +
             R"("canary":{"pool":null,"weight":0},"generation":1,"servers":{"blue":{"a:1":{"state":"drained"}}}})",
         "servers.blue.a:1: unknown state \"drained\" (enabled, draining or disabled)"},
        {base_head +
             R"("canary":{"pool":null,"weight":0},"generation":1,"servers":{"blue":{"a:1":{}}}})",
         "servers.blue.a:1: \"state\" must be enabled, draining or disabled"},
        {base_head +
             R"("canary":{"pool":null,"weight":0},"generation":1,"servers":{"blue":{"a:1":{"state":"enabled","weight":0}}}})",
         "servers.blue.a:1: \"weight\" must be an integer from 1 to 10000"},
        {base_head +
             R"("canary":{"pool":null,"weight":0},"generation":1,"servers":{"blue":{"a:1":{"state":"enabled","weight":2.5}}}})",
         "servers.blue.a:1: \"weight\" must be an integer from 1 to 10000"},
        {base_head +
             R"("canary":{"pool":null,"weight":0},"generation":1,"servers":{"blue":{"a:1":{"state":"enabled","drain":1}}}})",
         "servers.blue.a:1: unknown key \"drain\""},
    };
    for (const auto& [text, expected] : cases) {
        std::string error;
        EXPECT_FALSE(from_json(text, error)) << text;
        EXPECT_EQ(error.substr(0, expected.size()), expected) << text;
    }
}

TEST_F(StateFile, SaveThenLoad) {
    const auto path = dir_ / "state.json";
    std::string error;
    ASSERT_TRUE(save_state_file(path.string(), known_state(), {}, error)) << error;
    EXPECT_EQ(read_file(path), std::string(kKnownJson) + "\n");
    RuntimeState loaded;
    EXPECT_EQ(load_state_file(path.string(), loaded, rollout_, error), LoadStatus::ok) << error;
    EXPECT_EQ(loaded, known_state());
    // No temporary file is left behind.
    std::size_t entries = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_))
        ++entries;
    EXPECT_EQ(entries, 1u);
}

// A state file without "shadow" (from before mirroring existed, or written
// while neither the state nor the config had one) keeps the shadow the
// caller passes (the config's); one that records off stays off.
TEST_F(StateFile, AFileWithoutShadowKeepsTheCallersShadow) {
    const auto path = dir_ / "state.json";
    write_file(path, R"({"version":1,"active":"blue","previous":null,)"
                     R"("canary":{"pool":null,"weight":0.00},"generation":3,"servers":{}})");
    RuntimeState loaded;
    loaded.shadow = {"green", 5000, true};
    std::string error;
    ASSERT_EQ(load_state_file(path.string(), loaded, rollout_, error), LoadStatus::ok) << error;
    EXPECT_EQ(loaded.generation, 3u);
    EXPECT_EQ(loaded.shadow, (ShadowRuntime{"green", 5000, true}));

    RuntimeState off;
    off.active = "blue";
    ASSERT_TRUE(save_state_file(path.string(), off, {}, error)) << error;
    loaded.shadow = {"green", 5000, true};
    ASSERT_EQ(load_state_file(path.string(), loaded, rollout_, error), LoadStatus::ok) << error;
    EXPECT_EQ(loaded.shadow, (ShadowRuntime{"green", 5000, true}));
    ASSERT_TRUE(save_state_file(path.string(), off, {}, error, true)) << error;
    ASSERT_EQ(load_state_file(path.string(), loaded, rollout_, error), LoadStatus::ok) << error;
    EXPECT_EQ(loaded.shadow, ShadowRuntime{});
}

TEST_F(StateFile, SaveReplacesTheOldFile) {
    const auto path = dir_ / "state.json";
    std::string error;
    RuntimeState first;
    first.active = "blue";
    ASSERT_TRUE(save_state_file(path.string(), first, {}, error)) << error;
    ASSERT_TRUE(save_state_file(path.string(), known_state(), {}, error)) << error;
    RuntimeState loaded;
    EXPECT_EQ(load_state_file(path.string(), loaded, rollout_, error), LoadStatus::ok);
    EXPECT_EQ(loaded, known_state());
}

TEST_F(StateFile, SaveCreatesMissingParentDirectories) {
    const auto path = dir_ / "var" / "lib" / "switchyard" / "state.json";
    std::string error;
    ASSERT_TRUE(save_state_file(path.string(), known_state(), {}, error)) << error;
    struct stat st {};
    ASSERT_EQ(::stat((dir_ / "var" / "lib" / "switchyard").c_str(), &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777 & ~0755, 0u);
    RuntimeState loaded;
    EXPECT_EQ(load_state_file(path.string(), loaded, rollout_, error), LoadStatus::ok);
}

TEST_F(StateFile, SaveUnderARegularFileFails) {
    // Runs as root here, so permissions cannot make a directory unwritable:
    // a path under a regular file fails with ENOTDIR instead.
    const auto blocker = dir_ / "not-a-dir";
    write_file(blocker, "keep me");
    std::string error;
    EXPECT_FALSE(save_state_file((blocker / "state.json").string(), known_state(), {}, error));
    EXPECT_NE(error.find("Not a directory"), std::string::npos) << error;
    EXPECT_EQ(read_file(blocker), "keep me");
}

TEST_F(StateFile, FailedSaveLeavesTheOldFileIntact) {
    const auto path = dir_ / "state.json";
    write_file(path, "old contents");
    // The temporary file cannot be created: its name is taken by a directory.
    fs::create_directory(dir_ / ("state.json.tmp." + std::to_string(::getpid())));
    std::string error;
    EXPECT_FALSE(save_state_file(path.string(), known_state(), {}, error));
    EXPECT_NE(error.find("state.json.tmp."), std::string::npos) << error;
    EXPECT_EQ(read_file(path), "old contents");
}

TEST_F(StateFile, FailedRenameLeavesNoTemporaryFile) {
    const auto path = dir_ / "state.json";
    fs::create_directory(path);  // rename of a file over a directory fails
    fs::create_directory(path / "inside");
    std::string error;
    EXPECT_FALSE(save_state_file(path.string(), known_state(), {}, error));
    EXPECT_NE(error.find("rename"), std::string::npos) << error;
    EXPECT_FALSE(fs::exists(dir_ / ("state.json.tmp." + std::to_string(::getpid()))));
    EXPECT_TRUE(fs::is_directory(path / "inside"));
}

TEST_F(StateFile, LoadMissing) {
    RuntimeState out;
    std::string error;
    EXPECT_EQ(load_state_file((dir_ / "nope.json").string(), out, rollout_, error),
              LoadStatus::missing);
}

TEST_F(StateFile, LoadCorruptNamesTheFile) {
    const auto path = dir_ / "state.json";
    write_file(path, "{\"version\":1,");
    RuntimeState out;
    out.active = "untouched";
    std::string error;
    EXPECT_EQ(load_state_file(path.string(), out, rollout_, error), LoadStatus::corrupt);
    EXPECT_EQ(error.rfind("state file " + path.string() + ": not JSON", 0), 0u) << error;
    EXPECT_EQ(out.active, "untouched");
    write_file(path, "");
    EXPECT_EQ(load_state_file(path.string(), out, rollout_, error), LoadStatus::corrupt);
}

TEST_F(StateFile, LoadADirectoryIsCorrupt) {
    RuntimeState out;
    std::string error;
    EXPECT_EQ(load_state_file(dir_.string(), out, rollout_, error), LoadStatus::corrupt);
    EXPECT_NE(error.find(dir_.string()), std::string::npos);
}

}  // namespace
}  // namespace switchyard::control
