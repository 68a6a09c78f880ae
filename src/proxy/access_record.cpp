#include "switchyard/proxy/access_record.hpp"

#include "switchyard/core/json_writer.hpp"

namespace switchyard::proxy {

void append_access_line(std::string& out, const AccessRecord& r) {
    JsonWriter w(out);
    w.begin_object();
    w.key("time").string(r.time);
    w.key("worker").number(r.worker);
    w.key("client").string(r.client);
    if (!r.peer.empty() && r.peer != r.client) w.key("peer").string(r.peer);
    w.key("method").string(r.method);
    w.key("target").string(r.target);
    w.key("status").number(r.status);
    w.key("bytes_in").number(r.bytes_in);
    w.key("bytes_out").number(r.bytes_out);
    w.key("duration_ms").number_fixed(r.duration_ms, 3);
    w.key("upstream").string(r.upstream);
    w.key("pool").string(r.pool);
    w.key("request_id").string(r.request_id);
    if (r.error != ErrorKind::none) w.key("error").string(to_string(r.error));
    if (r.retries > 0) w.key("retries").number(r.retries);
    if (r.bucket >= 0) w.key("bucket").number(r.bucket);
    if (r.connect_us >= 0)
        w.key("upstream_connect_ms").number_fixed(static_cast<double>(r.connect_us) / 1000, 3);
    if (r.response_us >= 0)
        w.key("upstream_response_ms").number_fixed(static_cast<double>(r.response_us) / 1000, 3);
    w.end_object();
    out.push_back('\n');
}

}  // namespace switchyard::proxy
