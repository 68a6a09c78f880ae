#include "switchyard/proxy/routing_view.hpp"

#include "switchyard/core/text.hpp"

namespace switchyard::proxy {

RequestView routing_view(std::span<const http::HeaderField> fields, const RoutingState& state,
                         std::span<std::string_view> cookies) {
    RequestView view;
    std::size_t n_cookies = 0;
    for (const auto& f : fields) {
        if (f.id == http::bhttp::field::cookie) {
            if (n_cookies < cookies.size()) cookies[n_cookies++] = f.value;
        } else if (state.sticky.source == StickySource::header &&
                   iequals(f.name, state.sticky.name)) {
            view.sticky_header = f.value;
        } else if (!state.override_header.empty() && iequals(f.name, state.override_header)) {
            std::string_view v = f.value;
            auto semi = v.find(';');
            view.override_pool = trim_ows(v.substr(0, semi));
            if (semi != std::string_view::npos) {
                std::string_view param = trim_ows(v.substr(semi + 1));
                if (param.rfind("token=", 0) == 0) view.override_token = param.substr(6);
            }
        }
    }
    view.cookies = cookies.first(n_cookies);
    return view;
}

}  // namespace switchyard::proxy
