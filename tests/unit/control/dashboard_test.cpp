#include "switchyard/control/dashboard.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

namespace switchyard::control {
namespace {

std::string body_of(std::string_view path) {
    const auto* a = find_dashboard_asset(path);
    EXPECT_NE(a, nullptr) << path;
    return a ? std::string(a->body) : std::string();
}

TEST(Dashboard, PageScriptAndStyleAreServedWithTheirTypes) {
    const auto* page = find_dashboard_asset("/");
    ASSERT_NE(page, nullptr);
    EXPECT_EQ(page->content_type, "text/html; charset=utf-8");
    const auto* js = find_dashboard_asset("/dashboard.js");
    ASSERT_NE(js, nullptr);
    EXPECT_EQ(js->content_type, "text/javascript; charset=utf-8");
    const auto* css = find_dashboard_asset("/dashboard.css");
    ASSERT_NE(css, nullptr);
    EXPECT_EQ(css->content_type, "text/css; charset=utf-8");
    EXPECT_EQ(find_dashboard_asset("/index.html"), nullptr);  // only "/"
    EXPECT_EQ(find_dashboard_asset("/nope"), nullptr);
    EXPECT_EQ(find_dashboard_asset(""), nullptr);
}

TEST(Dashboard, EmbeddedFilesAreTheSourcesByteForByte) {
    const std::filesystem::path dir =
        std::filesystem::path(SWITCHYARD_SOURCE_DIR) / "src" / "control" / "dashboard";
    std::size_t n = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        const std::string name = entry.path().filename().string();
        const std::string ext = entry.path().extension().string();
        if (ext != ".html" && ext != ".js" && ext != ".css" && ext != ".svg") continue;
        std::ifstream in(entry.path(), std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        const std::string path = name == "index.html" ? "/" : "/" + name;
        EXPECT_EQ(body_of(path), ss.str()) << name << ": rebuild to embed the current file";
        ++n;
    }
    EXPECT_EQ(dashboard_assets().size(), n);
}

// Content-Security-Policy: default-src 'self' blocks inline script and
// style, style attributes, event handler attributes and every other origin:
// the page must need none of them.
TEST(Dashboard, NothingTheContentSecurityPolicyWouldBlock) {
    const std::string html = body_of("/");
    const std::string js = body_of("/dashboard.js");
    const std::string css = body_of("/dashboard.css");

    // every <script> has a same-origin src; no <style> element
    const std::regex script(R"(<script\b([^>]*)>)", std::regex::icase);
    int scripts = 0;
    for (std::sregex_iterator it(html.begin(), html.end(), script), end; it != end; ++it) {
        ++scripts;
        EXPECT_TRUE(std::regex_search((*it)[1].str(), std::regex(R"(\bsrc="/[a-z])"))) << it->str();
    }
    EXPECT_EQ(scripts, 1);
    EXPECT_FALSE(std::regex_search(html, std::regex(R"(<style\b)", std::regex::icase)));
    EXPECT_FALSE(std::regex_search(html, std::regex(R"(\sstyle\s*=)", std::regex::icase)));
    EXPECT_FALSE(std::regex_search(html, std::regex(R"(\son[a-z]+\s*=)", std::regex::icase)));
    // links and sources are same-origin paths ("/x", never "//host" or a scheme)
    const std::regex ref(R"re(\b(?:src|href)="([^"]*)")re");
    for (std::sregex_iterator it(html.begin(), html.end(), ref), end; it != end; ++it)
        EXPECT_TRUE(std::regex_match((*it)[1].str(), std::regex(R"(/[a-z][a-z0-9._-]*)")))
            << it->str();
    // no other origin anywhere (the SVG namespace is a name, not a fetch)
    for (const auto* text : {&html, &js, &css}) {
        std::string t = *text;
        t = std::regex_replace(t, std::regex(R"(http://www\.w3\.org/2000/svg)"), "");
        EXPECT_EQ(t.find("http://"), std::string::npos);
        EXPECT_EQ(t.find("https://"), std::string::npos);
        EXPECT_EQ(t.find("@import"), std::string::npos);
        EXPECT_EQ(t.find("url("), std::string::npos);
    }
    // no string evaluation, no markup from data, no style attribute from script
    for (const char* bad : {"eval(", "new Function", "innerHTML", "outerHTML", "insertAdjacentHTML",
                            "document.write", "setAttribute('style'", "setAttribute(\"style\""})
        EXPECT_EQ(js.find(bad), std::string::npos) << bad;
}

TEST(Dashboard, ThePageHasTheElementsTestsAndOperatorsRelyOn) {
    const std::string html = body_of("/");
    for (const char* id :
         {"active-pool", "canary", "generation", "config-generation", "previous-pool", "pools",
          "conn", "flags", "flags-body", "shadow", "shadow-pool", "shadow-percent", "shadow-health",
          "shadow-requests", "diff", "diff-body"})
        EXPECT_NE(html.find("id=\"" + std::string(id) + "\""), std::string::npos) << id;
    EXPECT_NE(body_of("/dashboard.js").find("fetch('/status'"), std::string::npos);
    EXPECT_NE(body_of("/dashboard.js").find("fetch('/diff'"), std::string::npos);
}

}  // namespace
}  // namespace switchyard::control
