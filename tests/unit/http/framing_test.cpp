#include "switchyard/http/framing.hpp"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

namespace switchyard::http {
namespace {

using Values = std::vector<std::string_view>;
using E = FramingError;

Framing req(Values cl, Values te, unsigned version = 11) {
    return request_framing(version, cl, te);
}

Framing resp(unsigned status, Values cl, Values te, unsigned version = 11, bool head = false,
             bool connect = false) {
    return response_framing(version, status, head, connect, cl, te);
}

std::optional<std::uint64_t> cl(Values v) {
    return parse_content_length(v);
}

// --- parse_content_length ---------------------------------------------------

TEST(ContentLength, ValidValues) {
    EXPECT_EQ(cl({"0"}), 0u);
    EXPECT_EQ(cl({"5"}), 5u);
    EXPECT_EQ(cl({" 42\t"}), 42u);
    EXPECT_EQ(cl({"007"}), 7u);
    EXPECT_EQ(cl({"5, 5"}), 5u);
    EXPECT_EQ(cl({"5,5,5"}), 5u);
    EXPECT_EQ(cl({"5", "5"}), 5u);
    EXPECT_EQ(cl({"5", "5 , 5"}), 5u);
    EXPECT_EQ(cl({"18446744073709551615"}), 18446744073709551615u);
}

TEST(ContentLength, InvalidValues) {
    for (std::string_view v : {"",
                               " ",
                               "+3",
                               "-1",
                               " 3x",
                               "3x",
                               "0x10",
                               "1e3",
                               "5 5",
                               "5,",
                               ",5",
                               "5,,5",
                               "3, 4",
                               "18446744073709551616",
                               "99999999999999999999",
                               "123456789012345678901234",
                               "\"5\"",
                               "5;",
                               "\xd9\xa5" /* Arabic-Indic five */,
                               "5\r"})
        EXPECT_FALSE(cl({v})) << v;
    EXPECT_FALSE(cl({}));
    EXPECT_FALSE(cl({"3", "4"}));
    EXPECT_FALSE(cl({"5", "05"}));  // not byte-identical
    EXPECT_FALSE(cl({"5", ""}));
}

// --- request_framing ----------------------------------------------------------

TEST(RequestFraming, NoFieldsMeansNoBody) {
    const Framing f = req({}, {});
    EXPECT_EQ(f.kind, BodyKind::none);
    EXPECT_EQ(f.error, E::none);
    EXPECT_FALSE(f.must_close);
    EXPECT_TRUE(f.ok());
    EXPECT_EQ(req({}, {}, 10).kind, BodyKind::none);
}

TEST(RequestFraming, ContentLength) {
    Framing f = req({"5"}, {});
    EXPECT_EQ(f.kind, BodyKind::content_length);
    EXPECT_EQ(f.length, 5u);
    EXPECT_FALSE(f.must_close);
    f = req({"0"}, {});
    EXPECT_EQ(f.kind, BodyKind::content_length);
    EXPECT_EQ(f.length, 0u);
    f = req({"12", "12"}, {}, 10);
    EXPECT_EQ(f.kind, BodyKind::content_length);
    EXPECT_EQ(f.length, 12u);
}

TEST(RequestFraming, BadContentLength) {
    for (std::string_view v : {"+3", "-1", " 3x", "", "0x10", "99999999999999999999", "5,"}) {
        const Framing f = req({v}, {});
        EXPECT_EQ(f.error, E::bad_content_length) << v;
        EXPECT_EQ(f.kind, BodyKind::none) << v;
        EXPECT_TRUE(f.must_close) << v;
    }
    EXPECT_EQ(req({"3", "x"}, {}).error, E::bad_content_length);  // syntax outranks conflict
}

TEST(RequestFraming, ConflictingContentLength) {
    EXPECT_EQ(req({"3", "4"}, {}).error, E::conflicting_content_length);
    EXPECT_EQ(req({"3, 4"}, {}).error, E::conflicting_content_length);
    EXPECT_EQ(req({"5", "05"}, {}).error, E::conflicting_content_length);
    EXPECT_TRUE(req({"3", "4"}, {}).must_close);
}

TEST(RequestFraming, Chunked) {
    for (Values te :
         {Values{"chunked"}, Values{"Chunked"}, Values{" CHUNKED "}, Values{"gzip, chunked"},
          Values{"gzip", "chunked"}, Values{"chunked,"},
          Values{"x-gzip, deflate, compress, x-compress, chunked"}, Values{"gzip,", " ,chunked"}}) {
        const Framing f = req({}, te);
        EXPECT_EQ(f.kind, BodyKind::chunked) << te[0];
        EXPECT_EQ(f.error, E::none) << te[0];
        EXPECT_FALSE(f.must_close) << te[0];
    }
}

TEST(RequestFraming, ContentLengthWithTransferEncodingIsRefused) {
    // CL.TE / TE.CL smuggling: never pick one of the two.
    Framing f = req({"5"}, {"chunked"});
    EXPECT_EQ(f.error, E::content_length_with_transfer_encoding);
    EXPECT_EQ(f.kind, BodyKind::none);
    EXPECT_TRUE(f.must_close);
    EXPECT_EQ(req({"5"}, {"gzip"}).error, E::content_length_with_transfer_encoding);  // gzip + CL
    EXPECT_EQ(req({"0"}, {"chunked"}).error, E::content_length_with_transfer_encoding);
    EXPECT_EQ(req({"x"}, {"chunked"}).error, E::content_length_with_transfer_encoding);
    EXPECT_EQ(req({"5"}, {""}).error, E::content_length_with_transfer_encoding);
}

TEST(RequestFraming, FinalCodingNotChunked) {
    for (Values te : {Values{"gzip"}, Values{"chunked, gzip"}, Values{"chunked", "gzip"},
                      Values{"xchunked"}, Values{"chunkedx"}, Values{"identity"},
                      Values{"chunked;q=1"}, Values{"gzip, xchunked"}, Values{"foo"}}) {
        const Framing f = req({}, te);
        EXPECT_EQ(f.error, E::transfer_encoding_not_chunked) << te[0];
        EXPECT_TRUE(f.must_close) << te[0];
        EXPECT_EQ(request_error_status(f.error), 400u) << te[0];
    }
}

TEST(RequestFraming, UnknownCodingBeforeChunked) {
    for (Values te : {Values{"xchunked, chunked"}, Values{"identity, chunked"},
                      Values{"br, chunked"}, Values{"gzip;level=1, chunked"},
                      Values{"gzip;level=\"a,b\", chunked"}, Values{"foo", "chunked"}}) {
        const Framing f = req({}, te);
        EXPECT_EQ(f.error, E::unknown_transfer_coding) << te[0];
        EXPECT_TRUE(f.must_close) << te[0];
        EXPECT_EQ(request_error_status(f.error), 501u) << te[0];
    }
}

TEST(RequestFraming, ChunkedTwice) {
    EXPECT_EQ(req({}, {"chunked, chunked"}).error, E::chunked_twice);
    EXPECT_EQ(req({}, {"chunked", "chunked"}).error, E::chunked_twice);
    EXPECT_EQ(req({}, {"chunked, gzip, chunked"}).error, E::chunked_twice);
    EXPECT_EQ(req({}, {"chunked;a=b, chunked"}).error, E::chunked_twice);
    EXPECT_TRUE(req({}, {"chunked", "chunked"}).must_close);
}

TEST(RequestFraming, MalformedTransferEncoding) {
    for (std::string_view v :
         {"", " ", " , ", "chu nked", "chunked\"", "\"chunked\"", "chunked;",
          "chunked;a=", "chunked;a=\"x", "chunked;=b", "gzip;level, chunked", "chunked/1",
          "chunked;a=b c", "chunked;a=\"\x01\"", "chunked;a=\"\\\x01\"", "\x80"}) {
        const Framing f = req({}, {v});
        EXPECT_EQ(f.error, E::bad_transfer_encoding) << v;
        EXPECT_TRUE(f.must_close) << v;
    }
    // Valid parameter syntax: OWS around ';' and '=' (BWS), quoted-pair.
    EXPECT_EQ(req({}, {"gzip ; a = b ; c=\"x\\\"y\", chunked"}).error, E::unknown_transfer_coding);
}

TEST(RequestFraming, TransferEncodingOnHttp10) {
    Framing f = req({}, {"chunked"}, 10);
    EXPECT_EQ(f.error, E::transfer_encoding_on_http10);
    EXPECT_TRUE(f.must_close);
    EXPECT_EQ(req({"5"}, {"chunked"}, 10).error, E::transfer_encoding_on_http10);
    EXPECT_EQ(req({}, {"gzip"}, 9).error, E::transfer_encoding_on_http10);
    EXPECT_EQ(req({}, {"chunked"}, 12).kind, BodyKind::chunked);  // 1.x > 1.1 is 1.1
}

TEST(RequestFraming, ErrorStatus) {
    EXPECT_EQ(request_error_status(E::none), 0u);
    EXPECT_EQ(request_error_status(E::unknown_transfer_coding), 501u);
    for (E e : {E::bad_content_length, E::conflicting_content_length,
                E::content_length_with_transfer_encoding, E::transfer_encoding_not_chunked,
                E::transfer_encoding_on_http10, E::chunked_twice, E::bad_transfer_encoding})
        EXPECT_EQ(request_error_status(e), 400u) << to_string(e);
}

// --- response_framing ---------------------------------------------------------

TEST(ResponseFraming, ContentLength) {
    const Framing f = resp(200, {"5"}, {});
    EXPECT_EQ(f.kind, BodyKind::content_length);
    EXPECT_EQ(f.length, 5u);
    EXPECT_FALSE(f.must_close);
    EXPECT_EQ(resp(200, {"5"}, {}, 10).kind, BodyKind::content_length);
    EXPECT_EQ(resp(404, {"0"}, {}).length, 0u);
}

TEST(ResponseFraming, NeitherMeansUntilClose) {
    for (unsigned version : {10u, 11u}) {
        const Framing f = resp(200, {}, {}, version);
        EXPECT_EQ(f.kind, BodyKind::until_close);
        EXPECT_TRUE(f.must_close);
        EXPECT_TRUE(f.ok());
    }
}

TEST(ResponseFraming, Chunked) {
    Framing f = resp(200, {}, {"chunked"});
    EXPECT_EQ(f.kind, BodyKind::chunked);
    EXPECT_FALSE(f.must_close);
    EXPECT_EQ(resp(200, {}, {"gzip", "chunked"}).kind, BodyKind::chunked);
    // Unknown codings are the client's business in a response.
    f = resp(200, {}, {"br, chunked"});
    EXPECT_EQ(f.kind, BodyKind::chunked);
    EXPECT_TRUE(f.ok());
}

TEST(ResponseFraming, TransferEncodingOverridesContentLengthAndCloses) {
    const Framing f = resp(200, {"5"}, {"chunked"});
    EXPECT_EQ(f.kind, BodyKind::chunked);
    EXPECT_TRUE(f.ok());
    EXPECT_TRUE(f.must_close);
}

TEST(ResponseFraming, NotFinalChunkedReadsUntilClose) {
    for (Values te :
         {Values{"gzip"}, Values{"chunked, gzip"}, Values{"xchunked"}, Values{"chunked;q=1"}}) {
        const Framing f = resp(200, {}, te);
        EXPECT_EQ(f.kind, BodyKind::until_close) << te[0];
        EXPECT_TRUE(f.must_close) << te[0];
        EXPECT_TRUE(f.ok()) << te[0];
    }
    EXPECT_EQ(resp(200, {"5"}, {"gzip"}).kind, BodyKind::until_close);
}

TEST(ResponseFraming, Errors) {
    EXPECT_EQ(resp(200, {"-1"}, {}).error, E::bad_content_length);
    EXPECT_EQ(resp(200, {"+3"}, {}).error, E::bad_content_length);
    EXPECT_EQ(resp(200, {"3", "4"}, {}).error, E::conflicting_content_length);
    EXPECT_EQ(resp(200, {"x"}, {"chunked"}).error, E::bad_content_length);
    EXPECT_EQ(resp(200, {}, {"chunked, chunked"}).error, E::chunked_twice);
    EXPECT_EQ(resp(200, {}, {""}).error, E::bad_transfer_encoding);
    EXPECT_EQ(resp(200, {}, {"chu nked"}).error, E::bad_transfer_encoding);
    EXPECT_EQ(resp(200, {}, {"chunked"}, 10).error, E::transfer_encoding_on_http10);
    const Framing f = resp(200, {"1", "2"}, {});
    EXPECT_EQ(f.kind, BodyKind::none);
    EXPECT_TRUE(f.must_close);
}

TEST(ResponseFraming, BodilessStatusesIgnoreFields) {
    for (unsigned status : {100u, 101u, 103u, 199u, 204u, 304u}) {
        const Framing f = resp(status, {}, {});
        EXPECT_EQ(f.kind, BodyKind::none) << status;
        EXPECT_FALSE(f.must_close) << status;
        EXPECT_TRUE(f.ok()) << status;
    }
    EXPECT_EQ(resp(200, {}, {}).kind, BodyKind::until_close);  // boundary after 1xx
    EXPECT_EQ(resp(205, {"0"}, {}).kind, BodyKind::content_length);
}

TEST(ResponseFraming, HeadResponse) {
    Framing f = resp(200, {"100"}, {}, 11, /*head=*/true);
    EXPECT_EQ(f.kind, BodyKind::none);
    EXPECT_EQ(f.length, 0u);
    EXPECT_FALSE(f.must_close);
    f = resp(200, {}, {"chunked"}, 11, true);
    EXPECT_EQ(f.kind, BodyKind::none);
    EXPECT_FALSE(f.must_close);
    f = resp(200, {}, {}, 11, true);
    EXPECT_EQ(f.kind, BodyKind::none);
    EXPECT_FALSE(f.must_close);
    f = resp(200, {}, {"chunked"}, 10, true);  // §6.1: TE on 1.0 -> close after it
    EXPECT_EQ(f.kind, BodyKind::none);
    EXPECT_TRUE(f.must_close);
    EXPECT_TRUE(f.ok());
}

TEST(ResponseFraming, FramedNoContentResponsesClose) {
    // A 204 or 1xx must not carry CL/TE; whatever follows could be read as
    // the next response on a reused connection.
    for (unsigned status : {100u, 204u}) {
        Framing f = resp(status, {"5"}, {});
        EXPECT_EQ(f.kind, BodyKind::none) << status;
        EXPECT_TRUE(f.must_close) << status;
        EXPECT_TRUE(f.ok()) << status;
        f = resp(status, {}, {"chunked"});
        EXPECT_EQ(f.kind, BodyKind::none) << status;
        EXPECT_TRUE(f.must_close) << status;
    }
    EXPECT_TRUE(resp(204, {"0"}, {}).must_close);
    // 304 may carry the CL a 200 would have had (RFC 9110 §8.6).
    const Framing f = resp(304, {"5"}, {});
    EXPECT_EQ(f.kind, BodyKind::none);
    EXPECT_FALSE(f.must_close);
}

TEST(ResponseFraming, InvalidContentLengthIsAnErrorEvenWithoutBody) {
    EXPECT_EQ(resp(304, {"abc"}, {}).error, E::bad_content_length);
    EXPECT_EQ(resp(204, {"1", "2"}, {}).error, E::conflicting_content_length);
    EXPECT_EQ(resp(200, {"-5"}, {}, 11, true).error, E::bad_content_length);
}

TEST(ResponseFraming, ConnectSuccessIsATunnel) {
    Framing f = resp(200, {"5"}, {"chunked"}, 11, false, /*connect=*/true);
    EXPECT_EQ(f.kind, BodyKind::until_close);
    EXPECT_TRUE(f.must_close);
    EXPECT_TRUE(f.ok());
    f = resp(200, {"garbage"}, {}, 11, false, true);  // CL ignored entirely
    EXPECT_EQ(f.kind, BodyKind::until_close);
    EXPECT_TRUE(f.ok());
    f = resp(204, {}, {}, 11, false, true);
    EXPECT_EQ(f.kind, BodyKind::until_close);
    f = resp(407, {"5"}, {}, 11, false, true);  // a refusal is an ordinary response
    EXPECT_EQ(f.kind, BodyKind::content_length);
    EXPECT_EQ(f.length, 5u);
    EXPECT_FALSE(f.must_close);
}

TEST(Framing, ErrorNames) {
    EXPECT_EQ(to_string(E::none), "none");
    EXPECT_EQ(to_string(E::bad_content_length), "bad_content_length");
    EXPECT_EQ(to_string(E::conflicting_content_length), "conflicting_content_length");
    EXPECT_EQ(to_string(E::content_length_with_transfer_encoding),
              "content_length_with_transfer_encoding");
    EXPECT_EQ(to_string(E::transfer_encoding_not_chunked), "transfer_encoding_not_chunked");
    EXPECT_EQ(to_string(E::unknown_transfer_coding), "unknown_transfer_coding");
    EXPECT_EQ(to_string(E::transfer_encoding_on_http10), "transfer_encoding_on_http10");
    EXPECT_EQ(to_string(E::chunked_twice), "chunked_twice");
    EXPECT_EQ(to_string(E::bad_transfer_encoding), "bad_transfer_encoding");
    EXPECT_EQ(to_string(static_cast<E>(99)), "unknown");
}

}  // namespace
}  // namespace switchyard::http
