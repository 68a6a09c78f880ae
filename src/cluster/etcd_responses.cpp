#include "switchyard/cluster/etcd_responses.hpp"

#include <boost/json.hpp>
#include <charconv>
#include <limits>

#include "switchyard/core/base64.hpp"

namespace switchyard::cluster {

namespace json = boost::json;

namespace {

// Reads the fields of the gateway's objects with its defaults (absent or
// null is 0 / false / ""), keeping the first problem with the field's path.
class FieldReader {
  public:
    bool failed() const { return !error_.empty(); }
    const std::string& error() const { return error_; }

    void fail(std::string_view path, std::string_view why) {
        if (error_.empty()) error_ = std::string(path) + ": " + std::string(why);
    }

    std::int64_t int64(const json::object& object, std::string_view name, std::string_view where) {
        const json::value* value = object.if_contains(name);
        if (value == nullptr || value->is_null()) return 0;
        if (const auto* number = value->if_int64()) return *number;
        if (const auto* number = value->if_uint64()) {
            if (*number <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
                return static_cast<std::int64_t>(*number);
        } else if (const auto* text = value->if_string()) {
            std::int64_t number = 0;
            if (parse_decimal(*text, number)) return number;
        }
        fail(path(where, name), "not a 64-bit integer");
        return 0;
    }

    std::uint64_t uint64(const json::object& object, std::string_view name,
                         std::string_view where) {
        const json::value* value = object.if_contains(name);
        if (value == nullptr || value->is_null()) return 0;
        if (const auto* number = value->if_uint64()) return *number;
        if (const auto* number = value->if_int64()) {
            if (*number >= 0) return static_cast<std::uint64_t>(*number);
        } else if (const auto* text = value->if_string()) {
            std::uint64_t number = 0;
            if (parse_decimal(*text, number)) return number;
        }
        fail(path(where, name), "not an unsigned 64-bit integer");
        return 0;
    }

    bool boolean(const json::object& object, std::string_view name, std::string_view where) {
        const json::value* value = object.if_contains(name);
        if (value == nullptr || value->is_null()) return false;
        if (const auto* flag = value->if_bool()) return *flag;
        fail(path(where, name), "not a boolean");
        return false;
    }

    std::string text(const json::object& object, std::string_view name, std::string_view where) {
        const json::value* value = object.if_contains(name);
        if (value == nullptr || value->is_null()) return {};
        if (const auto* text = value->if_string()) return std::string(*text);
        fail(path(where, name), "not a string");
        return {};
    }

    // A bytes field: base64 in the JSON.
    std::string bytes(const json::object& object, std::string_view name, std::string_view where) {
        const std::string encoded = text(object, name, where);
        if (auto decoded = base64_decode(encoded)) return std::move(*decoded);
        fail(path(where, name), "not base64");
        return {};
    }

    // nullptr when absent (or null), or when not an object (then failed()).
    const json::object* object(const json::object& parent, std::string_view name,
                               std::string_view where) {
        const json::value* value = parent.if_contains(name);
        if (value == nullptr || value->is_null()) return nullptr;
        if (const auto* object = value->if_object()) return object;
        fail(path(where, name), "not an object");
        return nullptr;
    }

    const json::array* array(const json::object& parent, std::string_view name,
                             std::string_view where) {
        const json::value* value = parent.if_contains(name);
        if (value == nullptr || value->is_null()) return nullptr;
        if (const auto* array = value->if_array()) return array;
        fail(path(where, name), "not an array");
        return nullptr;
    }

    static std::string path(std::string_view where, std::string_view name) {
        if (where.empty()) return std::string(name);
        return std::string(where) + "." + std::string(name);
    }

  private:
    // Decimal digits, an optional '-' for signed types; nothing else
    // (from_chars takes no '+', no spaces, no empty text).
    template <typename Integer>
    static bool parse_decimal(std::string_view text, Integer& out) {
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
        return ec == std::errc{} && end == text.data() + text.size();
    }

    std::string error_;
};

std::string indexed(std::string_view where, std::string_view name, std::size_t index) {
    return FieldReader::path(where, name) + "[" + std::to_string(index) + "]";
}

ResponseHeader read_header(FieldReader& reader, const json::object& parent,
                           std::string_view where) {
    ResponseHeader header;
    const json::object* object = reader.object(parent, "header", where);
    if (object == nullptr) return header;
    const std::string at = FieldReader::path(where, "header");
    header.cluster_id = reader.uint64(*object, "cluster_id", at);
    header.member_id = reader.uint64(*object, "member_id", at);
    header.revision = reader.int64(*object, "revision", at);
    header.raft_term = reader.uint64(*object, "raft_term", at);
    return header;
}

KeyValue read_key_value(FieldReader& reader, const json::object& object, std::string_view at) {
    KeyValue kv;
    kv.key = reader.bytes(object, "key", at);
    kv.value = reader.bytes(object, "value", at);
    kv.create_revision = reader.int64(object, "create_revision", at);
    kv.mod_revision = reader.int64(object, "mod_revision", at);
    kv.version = reader.int64(object, "version", at);
    kv.lease = reader.int64(object, "lease", at);
    return kv;
}

std::optional<KeyValue> read_optional_key_value(FieldReader& reader, const json::object& parent,
                                                std::string_view name, std::string_view where) {
    const json::object* object = reader.object(parent, name, where);
    if (object == nullptr) return std::nullopt;
    return read_key_value(reader, *object, FieldReader::path(where, name));
}

void read_key_values(FieldReader& reader, const json::object& parent, std::string_view where,
                     std::vector<KeyValue>& out) {
    const json::array* kvs = reader.array(parent, "kvs", where);
    if (kvs == nullptr) return;
    for (std::size_t i = 0; i < kvs->size(); ++i) {
        const std::string at = indexed(where, "kvs", i);
        const json::object* object = (*kvs)[i].if_object();
        if (object == nullptr) {
            reader.fail(at, "not an object");
            return;
        }
        out.push_back(read_key_value(reader, *object, at));
    }
}

std::optional<GatewayError> read_error(const json::object& object) {
    const json::value* error = object.if_contains("error");
    if (error == nullptr) return std::nullopt;
    FieldReader reader;  // a malformed code or message still reads as an error
    GatewayError result;
    if (const auto* text = error->if_string()) {
        result.message = reader.text(object, "message", "");
        if (result.message.empty()) result.message = std::string(*text);
        result.code = static_cast<int>(reader.int64(object, "code", ""));
    } else if (const auto* stream_error = error->if_object()) {
        result.message = reader.text(*stream_error, "message", "");
        result.code = static_cast<int>(reader.int64(*stream_error, "grpc_code", ""));
    } else {
        return std::nullopt;
    }
    return result;
}

std::string describe(const GatewayError& error) {
    return "etcd error " + std::to_string(error.code) + ": " + error.message;
}

// The response's object: the body itself, or the {"result":...} of a stream
// message. The document is kept alive by the caller's json::value.
Parsed<const json::object*> open_object(std::string_view text, json::value& document) {
    boost::system::error_code ec;
    document = json::parse(text, ec);
    if (ec) return Parsed<const json::object*>::failure("invalid JSON: " + ec.message());
    const json::object* object = document.if_object();
    if (object == nullptr) return Parsed<const json::object*>::failure("not a JSON object");
    if (auto error = read_error(*object))
        return Parsed<const json::object*>::failure(describe(*error));
    if (const json::value* result = object->if_contains("result")) {
        if (const json::object* inner = result->if_object()) return inner;
        return Parsed<const json::object*>::failure("result: not an object");
    }
    return object;
}

template <typename T>
Parsed<T> finish(const FieldReader& reader, T value) {
    if (reader.failed()) return Parsed<T>::failure(reader.error());
    return value;
}

}  // namespace

std::optional<GatewayError> parse_error(std::string_view text) {
    boost::system::error_code ec;
    const json::value document = json::parse(text, ec);
    if (ec) return std::nullopt;
    const json::object* object = document.if_object();
    if (object == nullptr) return std::nullopt;
    return read_error(*object);
}

Parsed<RangeResult> parse_range(std::string_view text) {
    json::value document;
    const auto object = open_object(text, document);
    if (!object) return Parsed<RangeResult>::failure(object.error());
    FieldReader reader;
    RangeResult result;
    result.header = read_header(reader, **object, "");
    read_key_values(reader, **object, "", result.kvs);
    result.more = reader.boolean(**object, "more", "");
    result.count = reader.int64(**object, "count", "");
    return finish(reader, std::move(result));
}

Parsed<PutResult> parse_put(std::string_view text) {
    json::value document;
    const auto object = open_object(text, document);
    if (!object) return Parsed<PutResult>::failure(object.error());
    FieldReader reader;
    PutResult result;
    result.header = read_header(reader, **object, "");
    result.prev_kv = read_optional_key_value(reader, **object, "prev_kv", "");
    return finish(reader, std::move(result));
}

Parsed<DeleteRangeResult> parse_delete_range(std::string_view text) {
    json::value document;
    const auto object = open_object(text, document);
    if (!object) return Parsed<DeleteRangeResult>::failure(object.error());
    FieldReader reader;
    DeleteRangeResult result;
    result.header = read_header(reader, **object, "");
    result.deleted = reader.int64(**object, "deleted", "");
    return finish(reader, std::move(result));
}

Parsed<TxnResult> parse_txn(std::string_view text) {
    json::value document;
    const auto object = open_object(text, document);
    if (!object) return Parsed<TxnResult>::failure(object.error());
    FieldReader reader;
    TxnResult result;
    result.header = read_header(reader, **object, "");
    result.succeeded = reader.boolean(**object, "succeeded", "");
    if (const json::array* responses = reader.array(**object, "responses", "")) {
        for (std::size_t i = 0; i < responses->size(); ++i) {
            const std::string at = indexed("", "responses", i);
            const json::object* response = (*responses)[i].if_object();
            if (response == nullptr) {
                reader.fail(at, "not an object");
                break;
            }
            // One of response_range, response_put, response_delete_range,
            // response_txn; only a range carries keys the caller needs.
            if (const json::object* range = reader.object(*response, "response_range", at))
                read_key_values(reader, *range, FieldReader::path(at, "response_range"),
                                result.kvs);
        }
    }
    return finish(reader, std::move(result));
}

Parsed<LeaseGrantResult> parse_lease_grant(std::string_view text) {
    json::value document;
    const auto object = open_object(text, document);
    if (!object) return Parsed<LeaseGrantResult>::failure(object.error());
    FieldReader reader;
    LeaseGrantResult result;
    result.header = read_header(reader, **object, "");
    result.id = reader.int64(**object, "ID", "");
    result.ttl = reader.int64(**object, "TTL", "");
    // (LeaseGrantResponse's own "error" string is refused by open_object.)
    if (!reader.failed() && result.id == 0) reader.fail("ID", "missing");
    return finish(reader, std::move(result));
}

Parsed<LeaseKeepAliveResult> parse_lease_keepalive(std::string_view text) {
    json::value document;
    const auto object = open_object(text, document);
    if (!object) return Parsed<LeaseKeepAliveResult>::failure(object.error());
    FieldReader reader;
    LeaseKeepAliveResult result;
    result.header = read_header(reader, **object, "");
    result.id = reader.int64(**object, "ID", "");
    result.ttl = reader.int64(**object, "TTL", "");
    return finish(reader, std::move(result));
}

Parsed<ResponseHeader> parse_lease_revoke(std::string_view text) {
    json::value document;
    const auto object = open_object(text, document);
    if (!object) return Parsed<ResponseHeader>::failure(object.error());
    FieldReader reader;
    ResponseHeader header = read_header(reader, **object, "");
    return finish(reader, header);
}

Parsed<std::string> parse_authenticate(std::string_view text) {
    json::value document;
    const auto object = open_object(text, document);
    if (!object) return Parsed<std::string>::failure(object.error());
    FieldReader reader;
    std::string token = reader.text(**object, "token", "");
    if (!reader.failed() && token.empty()) reader.fail("token", "missing");
    return finish(reader, std::move(token));
}

Parsed<WatchMessage> parse_watch_message(std::string_view line) {
    WatchMessage message;
    if (auto error = parse_error(line)) {
        message.error = std::move(error);
        return message;
    }
    json::value document;
    const auto object = open_object(line, document);
    if (!object) return Parsed<WatchMessage>::failure(object.error());
    FieldReader reader;
    message.header = read_header(reader, **object, "");
    message.watch_id = reader.int64(**object, "watch_id", "");
    message.created = reader.boolean(**object, "created", "");
    message.canceled = reader.boolean(**object, "canceled", "");
    message.compact_revision = reader.int64(**object, "compact_revision", "");
    message.cancel_reason = reader.text(**object, "cancel_reason", "");
    message.fragment = reader.boolean(**object, "fragment", "");
    if (const json::array* events = reader.array(**object, "events", "")) {
        for (std::size_t i = 0; i < events->size() && !reader.failed(); ++i) {
            const std::string at = indexed("", "events", i);
            const json::object* event = (*events)[i].if_object();
            if (event == nullptr) {
                reader.fail(at, "not an object");
                break;
            }
            WatchEvent parsed;
            // An enum: by name as the gateway writes it, or by number.
            const json::value* type = event->if_contains("type");
            if (type == nullptr || type->is_null()) {
                parsed.type = WatchEvent::Type::put;
            } else if (const auto* name = type->if_string(); name && *name == "PUT") {
                parsed.type = WatchEvent::Type::put;
            } else if (name && *name == "DELETE") {
                parsed.type = WatchEvent::Type::del;
            } else if (type->is_int64() && type->get_int64() == 0) {
                parsed.type = WatchEvent::Type::put;
            } else if (type->is_int64() && type->get_int64() == 1) {
                parsed.type = WatchEvent::Type::del;
            } else {
                reader.fail(FieldReader::path(at, "type"), "neither PUT nor DELETE");
                break;
            }
            const json::object* kv = reader.object(*event, "kv", at);
            if (kv == nullptr) {
                reader.fail(FieldReader::path(at, "kv"), "missing");
                break;
            }
            parsed.kv = read_key_value(reader, *kv, FieldReader::path(at, "kv"));
            parsed.prev_kv = read_optional_key_value(reader, *event, "prev_kv", at);
            message.events.push_back(std::move(parsed));
        }
    }
    return finish(reader, std::move(message));
}

}  // namespace switchyard::cluster
