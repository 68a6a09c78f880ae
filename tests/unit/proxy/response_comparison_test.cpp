#include "switchyard/proxy/response_comparison.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace switchyard {
namespace {

using Fields = std::vector<std::string>;

CapturedResponse json_response(std::string body, unsigned status = 200) {
    return {status, {{"Content-Type", "application/json"}}, std::move(body), false};
}

CapturedResponse text_response(std::string body) {
    return {200, {{"Content-Type", "text/plain"}}, std::move(body), false};
}

Fields diff(const CapturedResponse& a, const CapturedResponse& b,
            const ShadowDiffSettings& settings = {}) {
    const ComparisonResult r = compare_responses(a, b, settings);
    EXPECT_TRUE(r.comparable);
    return r.fields;
}

Fields json_diff(std::string a, std::string b) {
    return diff(json_response(std::move(a)), json_response(std::move(b)));
}

TEST(ResponseComparison, IdenticalResponsesAreEqual) {
    const CapturedResponse r = json_response(R"({"a":1})");
    EXPECT_EQ(compare_responses(r, r, {}), (ComparisonResult{true, {}}));
    EXPECT_EQ(diff(CapturedResponse{}, CapturedResponse{}), Fields{});
}

TEST(ResponseComparison, Status) {
    EXPECT_EQ(diff(json_response("{}", 200), json_response("{}", 500)), Fields{"status"});
}

TEST(ResponseComparison, JsonKeyOrderDoesNotMatter) {
    EXPECT_EQ(
        json_diff(R"({"a":1,"b":{"x":[1,2],"y":"s"}})", R"( {"b":{"y":"s","x":[1,2]},"a":1} )"),
        Fields{});
}

TEST(ResponseComparison, JsonFieldsByPathWithIndicesCollapsed) {
    EXPECT_EQ(json_diff(R"({"items":[{"id":1,"price":10},{"id":2,"price":20}],"n":2})",
                        R"({"items":[{"id":1,"price":11},{"id":2,"price":21}],"n":2})"),
              Fields{"$.items[].price"});
    EXPECT_EQ(json_diff(R"({"a":{"b":{"c":[[1,2],[3]]}}})", R"({"a":{"b":{"c":[[1,2],[4]]}}})"),
              Fields{"$.a.b.c[][]"});
    EXPECT_EQ(json_diff(R"({"a":"x","b":true,"c":null})", R"({"a":"y","b":false,"c":null})"),
              (Fields{"$.a", "$.b"}));
}

TEST(ResponseComparison, MissingAndExtraMembers) {
    EXPECT_EQ(json_diff(R"({"a":1,"gone":2})", R"({"a":1,"new":{"x":1}})"),
              (Fields{"$.gone", "$.new"}));
    EXPECT_EQ(json_diff(R"({"a":{}})", R"({"a":{"b":null}})"), Fields{"$.a.b"});
}

TEST(ResponseComparison, ArrayLengthIsReportedAtTheArrayAndCommonElementsCompared) {
    EXPECT_EQ(json_diff(R"({"items":[1,2,3]})", R"({"items":[1,2]})"), Fields{"$.items"});
    EXPECT_EQ(json_diff(R"({"items":[1,5,3]})", R"({"items":[1,2]})"),
              (Fields{"$.items", "$.items[]"}));
    EXPECT_EQ(json_diff("[]", "[1]"), Fields{"$"});
}

TEST(ResponseComparison, NumbersCompareByValue) {
    EXPECT_EQ(json_diff(R"({"n":1.0,"m":100,"k":-0.0})", R"({"n":1,"m":1e2,"k":0})"), Fields{});
    EXPECT_EQ(json_diff(R"({"big":18446744073709551615})", R"({"big":18446744073709551615})"),
              Fields{});
    EXPECT_EQ(json_diff(R"({"u":9223372036854775808})", R"({"u":-9223372036854775808})"),
              Fields{"$.u"});
    EXPECT_EQ(json_diff(R"({"n":1})", R"({"n":1.5})"), Fields{"$.n"});
    EXPECT_EQ(json_diff(R"({"n":-1})", R"({"n":18446744073709551615})"), Fields{"$.n"});
}

TEST(ResponseComparison, TypeChanges) {
    EXPECT_EQ(json_diff(R"({"a":1,"b":"1","c":[],"d":null,"e":false})",
                        R"({"a":"1","b":1,"c":{},"d":0,"e":0})"),
              (Fields{"$.a", "$.b", "$.c", "$.d", "$.e"}));
    // The value is replaced, so nothing below it is compared.
    EXPECT_EQ(json_diff(R"({"a":{"x":1}})", R"({"a":[{"x":2}]})"), Fields{"$.a"});
    EXPECT_EQ(json_diff(R"({"a":1})", "[1]"), Fields{"$"});
    EXPECT_EQ(json_diff("1", "2"), Fields{"$"});
}

TEST(ResponseComparison, KeysThatAreNotPlainAreQuoted) {
    EXPECT_EQ(
        json_diff(R"({"a.b":1,"":1,"q\"x":1,"ok_-9":1})", R"({"a.b":2,"":2,"q\"x":2,"ok_-9":2})"),
        (Fields{"$.ok_-9", R"($[""])", R"($["a.b"])", R"($["q\"x"])"}));
}

TEST(ResponseComparison, LongPathsAreCutAtTheLastStepThatFits) {
    const std::string key(200, 'k');
    const std::string a = R"({")" + key + R"(":{")" + key + R"(":{"x":1}}})";
    const std::string b = R"({")" + key + R"(":{")" + key + R"(":{"x":2}}})";
    EXPECT_EQ(json_diff(a, b), Fields{"$." + key});
    // A sibling's path, after the cut one, is whole again.
    const std::string c = R"({"a":[)" + a + R"(,{"y":1}]})";
    const std::string d = R"({"a":[)" + b + R"(,{"y":2}]})";
    EXPECT_EQ(json_diff(c, d), (Fields{"$.a[]." + key, "$.a[].y"}));
}

TEST(ResponseComparison, HeadersIgnoringCaseOrderAndConfiguredNames) {
    CapturedResponse a = json_response("{}");
    CapturedResponse b = json_response("{}");
    a.headers = {{"Content-Type", "application/json"},
                 {"X-Version", "1"},
                 {"Date", "Mon"},
                 {"Cache-Control", "no-store"},
                 {"Only-A", "x"}};
    b.headers = {{"x-version", "2"},
                 {"date", "Tue"},
                 {"CONTENT-TYPE", "application/json"},
                 {"cache-control", " no-store "},
                 {"Only-B", ""}};
    EXPECT_EQ(diff(a, b), (Fields{"header:only-a", "header:only-b", "header:x-version"}));

    ShadowDiffSettings settings;
    settings.ignore_headers = {"x-version", "only-a", "only-b"};
    EXPECT_EQ(diff(a, b, settings), Fields{"header:date"});
}

TEST(ResponseComparison, RepeatedHeadersAreJoinedInOrder) {
    CapturedResponse a = text_response("x");
    CapturedResponse b = text_response("x");
    a.headers.push_back({"Vary", "Accept"});
    a.headers.push_back({"Vary", "Origin"});
    b.headers.push_back({"vary", "Accept, Origin"});
    EXPECT_EQ(diff(a, b), Fields{});
    b.headers.back().second = "Origin, Accept";
    EXPECT_EQ(diff(a, b), Fields{"header:vary"});
}

TEST(ResponseComparison, HopByHopAndFramingFieldsAreNotCompared) {
    CapturedResponse a = text_response("x");
    CapturedResponse b = text_response("x");
    a.headers.insert(a.headers.end(), {{"Connection", "close"},
                                       {"Keep-Alive", "timeout=5"},
                                       {"Transfer-Encoding", "chunked"},
                                       {"TE", "trailers"},
                                       {"Trailer", "x"},
                                       {"Upgrade", "h2c"},
                                       {"Via", "1.1 a"}});
    b.headers.push_back({"Content-Length", "1"});
    EXPECT_EQ(diff(a, b), Fields{});
}

TEST(ResponseComparison, JsonBodiesOfDifferentLengthsCompareByContent) {
    CapturedResponse a = json_response(R"({"a": 1, "b": [1, 2]})");
    CapturedResponse b = json_response(R"({"b":[1,2],"a":1})");
    a.headers.push_back({"Content-Length", "21"});
    b.headers.push_back({"Content-Length", "17"});
    EXPECT_EQ(diff(a, b), Fields{});
}

TEST(ResponseComparison, NonJsonBodiesCompareByBytes) {
    EXPECT_EQ(diff(text_response("hello"), text_response("hello")), Fields{});
    EXPECT_EQ(diff(text_response("hello"), text_response("hellO")), Fields{"body"});
    // Plain text that happens to be a JSON number is still text.
    EXPECT_EQ(diff(text_response("1.0"), text_response("1")), Fields{"body"});
    EXPECT_EQ(diff(text_response("<html>"), text_response("")), Fields{"body"});
}

TEST(ResponseComparison, JsonIsRecognisedByContentTypeOrShape) {
    // No content type, but objects: compared as JSON.
    EXPECT_EQ(diff(CapturedResponse{200, {}, R"( {"a":1,"b":2})", false},
                   CapturedResponse{200, {}, R"({"b":2,"a":1})", false}),
              Fields{});
    // A JSON media type in any case and with parameters; a scalar body.
    CapturedResponse a{
        200, {{"content-type", "Application/Problem+JSON; charset=utf-8"}}, "1.0", false};
    CapturedResponse b = a;
    b.body = "1";
    EXPECT_EQ(diff(a, b), Fields{});
}

TEST(ResponseComparison, MalformedJsonComparesAsBytes) {
    EXPECT_EQ(json_diff(R"({"a":1,})", R"({"a":1,})"), Fields{});
    EXPECT_EQ(json_diff(R"({"a":1,})", R"({"a":1})"), Fields{"body"});
    EXPECT_EQ(json_diff(R"({"a":1})", R"({"a":1} trailing)"), Fields{"body"});
    EXPECT_EQ(json_diff(R"({"a":1, "b":2})", R"({"a":1,"b":2)"), Fields{"body"});
    EXPECT_EQ(json_diff("{\"a\":\"\xff\"}", "{\"a\":\"\xfe\"}"), Fields{"body"});  // not UTF-8
    EXPECT_EQ(json_diff("", "{}"), Fields{"body"});
}

std::string nested(int depth, std::string_view inner) {
    return std::string(depth, '[') + std::string(inner) + std::string(depth, ']');
}

TEST(ResponseComparison, NestingBeyondTheDepthLimitComparesAsBytes) {
    // 64 levels parse: the difference has a path.
    std::string path = "$";
    for (int i = 0; i < 64; ++i)
        path += "[]";
    EXPECT_EQ(json_diff(nested(64, "1"), nested(64, "2")), Fields{path});
    EXPECT_EQ(json_diff(nested(64, "1"), nested(64, "1.0")), Fields{});
    // 65 do not: bytes.
    EXPECT_EQ(json_diff(nested(65, "1"), nested(65, "2")), Fields{"body"});
    EXPECT_EQ(json_diff(nested(65, "1"), nested(65, "1")), Fields{});
    EXPECT_EQ(json_diff(nested(100000, "1"), nested(100000, "1.0")), Fields{"body"});
}

TEST(ResponseComparison, TruncatedCapturesAreNotComparable) {
    CapturedResponse a = json_response(R"({"a":1})");
    CapturedResponse b = json_response(R"({"a":2})", 500);
    b.truncated = true;
    EXPECT_EQ(compare_responses(a, b, {}), (ComparisonResult{false, {}}));
    EXPECT_EQ(compare_responses(b, a, {}), (ComparisonResult{false, {}}));
    // A body longer than max_body counts as truncated.
    b.truncated = false;
    ShadowDiffSettings settings;
    settings.max_body = 6;
    EXPECT_EQ(compare_responses(a, b, settings), (ComparisonResult{false, {}}));
    settings.max_body = 7;
    EXPECT_EQ(compare_responses(a, b, settings), (ComparisonResult{true, {"$.a", "status"}}));
}

TEST(ResponseComparison, AtMost64FieldsTheLastBeingOther) {
    std::string a = "{", b = "{";
    for (int i = 0; i < 100; ++i) {
        const std::string sep = i == 0 ? "" : ",";
        a += sep + "\"f" + std::to_string(i) + "\":1";
        b += sep + "\"f" + std::to_string(i) + "\":2";
    }
    a += "}";
    b += "}";
    CapturedResponse ra = json_response(a, 200);
    CapturedResponse rb = json_response(b, 500);
    const Fields fields = diff(ra, rb);
    ASSERT_EQ(fields.size(), kMaxComparisonFields);
    EXPECT_TRUE(std::is_sorted(fields.begin(), fields.end()));
    // Found in order: status, then $.f0 .. $.f61, then more than fit.
    EXPECT_EQ(std::count(fields.begin(), fields.end(), "status"), 1);
    EXPECT_EQ(std::count(fields.begin(), fields.end(), "$.f61"), 1);
    EXPECT_EQ(std::count(fields.begin(), fields.end(), "$.f62"), 0);
    EXPECT_EQ(fields.back(), "status");
    EXPECT_EQ(fields[fields.size() - 2], "other");

    // Exactly 64 differences fit without "other".
    CapturedResponse ca = json_response(nested(1, "1,1"), 200);
    EXPECT_EQ(diff(ca, json_response(nested(1, "2,2"), 500)), (Fields{"$[]", "status"}));
}

}  // namespace
}  // namespace switchyard
