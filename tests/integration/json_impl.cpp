// Boost.JSON compiled into the test binary (header-only mode): the
// integration target links only sy_asio and sy_core.
#include <boost/json/src.hpp>
