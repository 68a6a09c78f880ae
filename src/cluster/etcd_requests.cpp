#include "switchyard/cluster/etcd_requests.hpp"

#include <boost/json.hpp>

#include "switchyard/core/base64.hpp"

namespace switchyard::cluster {

namespace json = boost::json;

namespace {

// 64-bit numbers as the gateway writes them (protobuf's JSON mapping).
json::string int64_text(std::int64_t value) {
    return json::string(std::to_string(value));
}

json::string bytes_text(std::string_view bytes) {
    return json::string(base64_encode(bytes));
}

json::object key_object(std::string_view key, std::string_view range_end) {
    json::object object;
    object["key"] = bytes_text(key);
    if (!range_end.empty()) object["range_end"] = bytes_text(range_end);
    return object;
}

json::object put_request(std::string_view key, std::string_view value, std::int64_t lease_id) {
    json::object put;
    put["key"] = bytes_text(key);
    put["value"] = bytes_text(value);
    if (lease_id != 0) put["lease"] = int64_text(lease_id);
    return put;
}

json::object lease_id_object(std::int64_t lease_id) {
    json::object object;
    object["ID"] = int64_text(lease_id);
    return object;
}

}  // namespace

std::string prefix_range_end(std::string_view prefix) {
    std::string end(prefix);
    while (!end.empty()) {
        const auto last = static_cast<unsigned char>(end.back());
        if (last < 0xff) {
            end.back() = static_cast<char>(last + 1);
            return end;
        }
        end.pop_back();
    }
    return std::string(1, '\0');
}

std::string range_body(std::string_view key, std::string_view range_end, std::int64_t limit) {
    json::object body = key_object(key, range_end);
    if (limit != 0) body["limit"] = int64_text(limit);
    return json::serialize(body);
}

std::string put_body(std::string_view key, std::string_view value, std::int64_t lease_id) {
    return json::serialize(put_request(key, value, lease_id));
}

std::string delete_range_body(std::string_view key, std::string_view range_end) {
    return json::serialize(key_object(key, range_end));
}

std::string txn_put_if_mod_revision_body(std::string_view key, std::string_view value,
                                         std::int64_t expected_mod_revision,
                                         std::int64_t lease_id) {
    json::object compare;
    if (expected_mod_revision == 0) {
        compare["target"] = "CREATE";
        compare["key"] = bytes_text(key);
        compare["create_revision"] = int64_text(0);
    } else {
        compare["target"] = "MOD";
        compare["key"] = bytes_text(key);
        compare["mod_revision"] = int64_text(expected_mod_revision);
    }
    compare["result"] = "EQUAL";

    json::object success;
    success["request_put"] = put_request(key, value, lease_id);
    json::object failure;
    failure["request_range"] = key_object(key, {});

    json::object body;
    body["compare"] = json::array{std::move(compare)};
    body["success"] = json::array{std::move(success)};
    body["failure"] = json::array{std::move(failure)};
    return json::serialize(body);
}

std::string txn_create_if_absent_body(std::string_view key, std::string_view value,
                                      std::int64_t lease_id) {
    return txn_put_if_mod_revision_body(key, value, 0, lease_id);
}

std::string lease_grant_body(std::int64_t ttl_seconds) {
    json::object body;
    body["TTL"] = int64_text(ttl_seconds);
    return json::serialize(body);
}

std::string lease_keepalive_body(std::int64_t lease_id) {
    return json::serialize(lease_id_object(lease_id));
}

std::string lease_revoke_body(std::int64_t lease_id) {
    return json::serialize(lease_id_object(lease_id));
}

std::string watch_create_body(std::string_view key, std::int64_t start_revision,
                              std::string_view range_end, bool prev_kv) {
    json::object create = key_object(key, range_end);
    if (start_revision != 0) create["start_revision"] = int64_text(start_revision);
    if (prev_kv) create["prev_kv"] = true;
    json::object body;
    body["create_request"] = std::move(create);
    return json::serialize(body);
}

std::string authenticate_body(std::string_view user, std::string_view password) {
    json::object body;
    body["name"] = user;
    body["password"] = password;
    return json::serialize(body);
}

}  // namespace switchyard::cluster
