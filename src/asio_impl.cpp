// The one translation unit that compiles Asio, Beast and Asio's OpenSSL glue
// (BOOST_ASIO_SEPARATE_COMPILATION / BOOST_BEAST_SEPARATE_COMPILATION).
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
// Boost.URL has no library in the distribution's packages: compiled here
// (http/post_client parses webhook and gate URLs with it).
#include <boost/url/src.hpp>
