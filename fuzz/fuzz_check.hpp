// Shared plumbing of the fuzz targets: the check macro, and the small
// deterministic helpers that turn input bytes into split points.
//
// A failed check throws CheckFailure. The libFuzzer entry points (run_fuzz_target)
// turn it into an abort, so libFuzzer saves the input; the GoogleTest replay
// (tests/unit/*/fuzz_regression_test.cpp) reports it as a test failure with
// the file that caused it.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

namespace switchyard::fuzz {

struct CheckFailure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A violation already reported and not fixed yet (see README.md, "Known
// issues"): the input is dropped instead of stopping the fuzzer at it again,
// and the replay test lists it without failing. Once the bug is fixed, the
// SY_FUZZ_KNOWN_ISSUE becomes an SY_FUZZ_CHECK, and the regression file in
// fuzz/regressions/ that shows it keeps it fixed.
struct KnownIssue : std::runtime_error {
    using std::runtime_error::runtime_error;
};

[[noreturn]] inline void check_failed(const char* expr, const char* file, int line) {
    throw CheckFailure(std::string(file) + ":" + std::to_string(line) + ": check failed: " + expr);
}

[[noreturn]] inline void known_issue(const char* id, const char* expr) {
    throw KnownIssue(std::string("known issue ") + id + " (" + expr + ")");
}

#define SY_FUZZ_CHECK(cond)                                                       \
    do {                                                                          \
        if (!(cond)) ::switchyard::fuzz::check_failed(#cond, __FILE__, __LINE__); \
    } while (false)

#define SY_FUZZ_KNOWN_ISSUE(id, cond)                            \
    do {                                                         \
        if (!(cond)) ::switchyard::fuzz::known_issue(id, #cond); \
    } while (false)

// FNV-1a: split points and flags derived from the whole input, so corpus
// files stay plain messages with no control bytes in front.
inline std::uint64_t input_hash(std::string_view s) noexcept {
    std::uint64_t h = 14695981039346656037ull;
    for (char c : s) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ull;
    }
    return h;
}

// SplitMix64: piece lengths from the input hash.
class SplitMix {
  public:
    explicit SplitMix(std::uint64_t seed) noexcept : state_(seed) {}
    std::uint64_t next() noexcept {
        std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    // 1 .. max_len, biased towards small pieces.
    std::size_t piece(std::size_t max_len) noexcept {
        const std::uint64_t r = next();
        const std::size_t cap = std::size_t{1} << (r % 8);  // 1 .. 128
        const std::size_t len = 1 + static_cast<std::size_t>((r >> 8) % cap);
        return len < max_len ? len : max_len;
    }

  private:
    std::uint64_t state_;
};

// For the libFuzzer entry points: a failed check aborts, so that libFuzzer
// reports it as a crash and writes the input to its artifact prefix. An input
// that shows a known issue is kept out of the corpus (-1).
template <class F>
int run_fuzz_target(F&& check, const std::uint8_t* data, std::size_t size) {
    try {
        check(std::string_view(reinterpret_cast<const char*>(data), size));
    } catch (const KnownIssue&) {
        return -1;
    } catch (const CheckFailure& e) {
        std::fprintf(stderr, "%s\n", e.what());
        std::abort();
    }
    return 0;
}

}  // namespace switchyard::fuzz
