// Replays the fuzz corpora in the unit tests (built with the normal compiler,
// no libFuzzer): every file in fuzz/corpus/<target>/ and
// fuzz/regressions/<target>/ goes through the same check as the fuzzer's.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"

namespace switchyard::fuzz {

inline std::vector<std::filesystem::path> replay_inputs(std::string_view target) {
    namespace fs = std::filesystem;
    std::vector<fs::path> files;
    for (const char* kind : {"corpus", "regressions"}) {
        const fs::path dir = fs::path(SWITCHYARD_SOURCE_DIR) / "fuzz" / kind / target;
        std::error_code ec;
        for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
            if (it->is_regular_file()) files.push_back(it->path());
    }
    std::sort(files.begin(), files.end());
    return files;
}

// Runs `check` on every input of `target`; a failed check fails the test and
// names the file; a known issue is listed on stdout.
template <class F>
void replay_corpus(std::string_view target, F&& check) {
    const auto files = replay_inputs(target);
    EXPECT_FALSE(files.empty()) << "no inputs in fuzz/corpus/" << target;
    for (const auto& path : files) {
        std::ifstream in(path, std::ios::binary);
        ASSERT_TRUE(in) << path;
        const std::string bytes{std::istreambuf_iterator<char>(in),
                                std::istreambuf_iterator<char>()};
        try {
            check(std::string_view(bytes));
        } catch (const KnownIssue& e) {
            std::cout << "[ KNOWN    ] " << path.filename().string() << ": " << e.what() << "\n";
        } catch (const CheckFailure& e) {
            ADD_FAILURE() << path << ": " << e.what();
        }
    }
}

}  // namespace switchyard::fuzz
