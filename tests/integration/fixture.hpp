// Shared fixture: a temp dir, echo upstreams "blue" and "green", and a
// switchyard started on demand. Members are destroyed in reverse order: the
// proxy is killed first, then the upstreams, then the directory is removed.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "harness.hpp"

namespace sy_it {

class ProxyTest : public ::testing::Test {
  protected:
    void start_upstreams() {
        blue_ = std::make_unique<EchoServer>(dir_, "blue");
        green_ = std::make_unique<EchoServer>(dir_, "green");
    }

    // blue and green pools with the echo servers (started if needed).
    ProxyConfig base_config() {
        if (!blue_) start_upstreams();
        ProxyConfig cfg;
        cfg.pools = {{"blue", {blue_->address()}}, {"green", {green_->address()}}};
        return cfg;
    }

    Switchyard& start_proxy(const ProxyConfig& cfg) {
        proxy_ = std::make_unique<Switchyard>(dir_, cfg);
        return *proxy_;
    }
    Switchyard& start_proxy() { return start_proxy(base_config()); }

    void TearDown() override {
        if (HasFailure() && proxy_) {
            std::string err = proxy_->stderr_text();
            if (err.size() > 4000) err = "..." + err.substr(err.size() - 4000);
            std::cerr << "--- switchyard stderr (" << dir_.path() << ") ---\n" << err << "\n";
        }
    }

    TempDir dir_;
    std::unique_ptr<EchoServer> blue_;
    std::unique_ptr<EchoServer> green_;
    std::unique_ptr<Switchyard> proxy_;
};

// A request head as the upstream saw it (echo=head), split into fields.
struct SeenHead {
    std::string request_line;
    std::vector<std::pair<std::string, std::string>> fields;  // name as sent, value trimmed

    static std::string lower(std::string s) {
        for (auto& c : s)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return s;
    }

    static SeenHead parse(const std::string& raw) {
        SeenHead h;
        std::size_t pos = raw.find("\r\n");
        h.request_line = raw.substr(0, pos);
        while (pos != std::string::npos) {
            std::size_t start = pos + 2;
            pos = raw.find("\r\n", start);
            if (pos == std::string::npos || pos == start) break;
            std::string line = raw.substr(start, pos - start);
            auto colon = line.find(':');
            std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
            while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
                value.erase(0, 1);
            while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
                value.pop_back();
            h.fields.emplace_back(line.substr(0, colon), value);
        }
        return h;
    }

    std::vector<std::string> values(const std::string& name) const {
        std::vector<std::string> out;
        for (const auto& [n, v] : fields)
            if (lower(n) == lower(name)) out.push_back(v);
        return out;
    }

    // Field names (lower case) in order, keeping only those in `subset`.
    std::vector<std::string> order_of(const std::vector<std::string>& subset) const {
        std::vector<std::string> out;
        for (const auto& [n, v] : fields)
            if (std::find(subset.begin(), subset.end(), lower(n)) != subset.end())
                out.push_back(lower(n));
        return out;
    }
};

inline bool is_hex32(const std::string& s) {
    return s.size() == 32 && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

}  // namespace sy_it
