#include "switchyard/proxy/access_record.hpp"

#include "switchyard/core/json_writer.hpp"

namespace switchyard::proxy {

namespace {

// `,"key":"value"` with the value escaped.
void append_string(std::string& out, std::string_view key_and_quote, std::string_view value) {
    out.append(key_and_quote);
    append_json_escaped(out, value);
    out.push_back('"');
}

}  // namespace

// Laid out by hand with the JSON writer's primitives: member names and
// punctuation go out as literals, a few appends per member (the line is
// written for every request). Golden tests pin it.
void append_access_line(std::string& out, const AccessRecord& r) {
    append_string(out, "{\"time\":\"", r.time);
    out.append(",\"worker\":");
    append_json_integer(out, r.worker);
    append_string(out, ",\"client\":\"", r.client);
    if (!r.peer.empty() && r.peer != r.client) append_string(out, ",\"peer\":\"", r.peer);
    append_string(out, ",\"method\":\"", r.method);
    append_string(out, ",\"target\":\"", r.target);
    if (r.http2) out.append(",\"protocol\":\"HTTP/2\"");
    out.append(",\"status\":");
    append_json_integer(out, r.status);
    out.append(",\"bytes_in\":");
    append_json_integer(out, r.bytes_in);
    out.append(",\"bytes_out\":");
    append_json_integer(out, r.bytes_out);
    out.append(",\"duration_ms\":");
    append_json_millis(out, r.duration_us);
    append_string(out, ",\"upstream\":\"", r.upstream);
    append_string(out, ",\"pool\":\"", r.pool);
    append_string(out, ",\"request_id\":\"", r.request_id);
    if (r.error != ErrorKind::none) append_string(out, ",\"error\":\"", to_string(r.error));
    if (r.retries > 0) {
        out.append(",\"retries\":");
        append_json_integer(out, r.retries);
    }
    if (r.bucket >= 0) {
        out.append(",\"bucket\":");
        append_json_integer(out, r.bucket);
    }
    if (r.connect_us >= 0) {
        out.append(",\"upstream_connect_ms\":");
        append_json_millis(out, r.connect_us);
    }
    if (r.response_us >= 0) {
        out.append(",\"upstream_response_ms\":");
        append_json_millis(out, r.response_us);
    }
    out.append("}\n");
}

}  // namespace switchyard::proxy
