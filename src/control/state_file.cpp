#include "switchyard/control/state_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "rollout_json.hpp"
#include "switchyard/core/feature_flags.hpp"
#include "switchyard/core/json_writer.hpp"
#include "switchyard/core/runtime_transitions.hpp"

namespace switchyard::control {

namespace json = boost::json;

std::string_view admin_state_name(AdminState state) {
    switch (state) {
        case AdminState::enabled:
            return "enabled";
        case AdminState::draining:
            return "draining";
        case AdminState::disabled:
            return "disabled";
    }
    return "enabled";
}

// The canary weight reads 5.00 and the key order is fixed, so the file diffs
// well and golden tests are exact.
void write_routing_fields(JsonWriter& w, const RuntimeState& state) {
    w.key("active").string(state.active);
    w.key("previous").string_or_null(state.previous);
    w.key("canary").begin_object();
    w.key("pool").string_or_null(state.canary_pool);
    w.key("weight").number_fixed(state.canary_weight_bp / 100.0, 2);
    w.end_object();
    w.key("generation").number(state.generation);
}

void write_shadow(JsonWriter& w, const ShadowRuntime& shadow) {
    w.begin_object();
    w.key("pool").string_or_null(shadow.pool);
    w.key("percent").number_fixed(shadow.pool.empty() ? 0.0 : shadow.percent_milli / 1000.0, 3);
    w.key("diff").boolean(!shadow.pool.empty() && shadow.diff);
    w.end_object();
}

std::string to_json(const RuntimeState& state, const RolloutSnapshot& rollout,
                    bool record_shadow_off) {
    std::string out;
    JsonWriter w(out);
    w.begin_object().key("version").number(1);
    write_routing_fields(w, state);
    w.key("servers").begin_object();
    for (const auto& [pool, servers] : state.servers) {
        w.key(pool).begin_object();
        for (const auto& [address, admin] : servers) {
            w.key(address).begin_object();
            w.key("state").string(admin_state_name(admin.state));
            if (admin.weight) w.key("weight").number(*admin.weight);
            w.end_object();
        }
        w.end_object();
    }
    w.end_object();
    if (!state.flags.empty()) {
        w.key("flags").begin_object();
        for (const auto& [name, percent] : state.flags)
            w.key(name).number_fixed(percent / 1000.0, 3);
        w.end_object();
    }
    // A file without it takes the config's shadow (load_state_file): off is
    // written only where that would differ, so a state without mirroring is
    // the same file as before mirroring existed.
    if (!state.shadow.pool.empty() || record_shadow_off) {
        w.key("shadow");
        write_shadow(w, state.shadow);
    }
    if (detail::has_rollout(rollout)) {
        w.key("rollout");
        detail::write_rollout(w, rollout);
    }
    w.end_object();
    return out;
}

namespace {

bool fail(std::string& error, std::string message) {
    error = std::move(message);
    return false;
}

std::optional<std::uint64_t> as_u64(const json::value& v) {
    if (v.is_uint64()) return v.get_uint64();
    if (v.is_int64() && v.get_int64() >= 0) return static_cast<std::uint64_t>(v.get_int64());
    return std::nullopt;
}

bool check_keys(const json::object& obj, std::initializer_list<std::string_view> allowed,
                std::string_view where, std::string& error) {
    for (const auto& kv : obj) {
        bool known = false;
        for (auto a : allowed)
            known = known || kv.key() == a;
        if (!known)
            return fail(error,
                        std::string(where) + ": unknown key \"" + std::string(kv.key()) + "\"");
    }
    return true;
}

// A non-empty string, or (when `nullable`) null → "".
bool read_name(const json::object& obj, std::string_view key, bool nullable, std::string& out,
               std::string& error) {
    const json::value* v = obj.if_contains(key);
    if (v == nullptr) return fail(error, "\"" + std::string(key) + "\" is missing");
    if (nullable && v->is_null()) {
        out.clear();
        return true;
    }
    if (!v->is_string() || v->get_string().empty())
        return fail(error, "\"" + std::string(key) + "\" must be a pool name" +
                               (nullable ? " or null" : ""));
    out = std::string(v->get_string());
    return true;
}

bool read_weight_bp(const json::value& v, std::uint32_t& out, std::string& error) {
    return detail::read_percent_bp(v, "canary weight", out, error);
}

bool read_servers(const json::value& v, RuntimeState& state, std::string& error) {
    if (!v.is_object()) return fail(error, "\"servers\" must be an object");
    for (const auto& pool : v.get_object()) {
        const std::string where = "servers." + std::string(pool.key());
        if (pool.key().empty()) return fail(error, "servers: empty pool name");
        if (!pool.value().is_object()) return fail(error, where + " must be an object");
        auto& admins = state.servers[std::string(pool.key())];
        for (const auto& server : pool.value().get_object()) {
            const std::string at = where + "." + std::string(server.key());
            if (server.key().empty()) return fail(error, where + ": empty server address");
            if (!server.value().is_object()) return fail(error, at + " must be an object");
            const auto& obj = server.value().get_object();
            if (!check_keys(obj, {"state", "weight"}, at, error)) return false;
            ServerAdmin admin;
            const json::value* st = obj.if_contains("state");
            if (st == nullptr || !st->is_string())
                return fail(error, at + ": \"state\" must be enabled, draining or disabled");
            if (st->get_string() == "enabled")
                admin.state = AdminState::enabled;
            else if (st->get_string() == "draining")
                admin.state = AdminState::draining;
            else if (st->get_string() == "disabled")
                admin.state = AdminState::disabled;
            else
                return fail(error, at + ": unknown state \"" + std::string(st->get_string()) +
                                       "\" (enabled, draining or disabled)");
            if (const json::value* w = obj.if_contains("weight")) {
                auto n = as_u64(*w);
                if (!n || *n < 1 || *n > kMaxServerWeight)
                    return fail(error, at + ": \"weight\" must be an integer from 1 to " +
                                           std::to_string(kMaxServerWeight));
                admin.weight = static_cast<std::uint32_t>(*n);
            }
            admins[std::string(server.key())] = admin;
        }
        if (admins.empty()) state.servers.erase(std::string(pool.key()));
    }
    return true;
}

bool read_flags(const json::value& v, RuntimeState& state, std::string& error) {
    if (!v.is_object()) return fail(error, "\"flags\" must be an object");
    for (const auto& flag : v.get_object()) {
        const std::string name(flag.key());
        if (!valid_flag_name(name)) return fail(error, "flags: invalid flag name \"" + name + "\"");
        std::uint32_t percent = 0;
        if (!detail::read_percent_milli(flag.value(), "flags." + name, percent, error))
            return false;
        state.flags[name] = percent;
    }
    return true;
}

bool read_shadow(const json::value& v, RuntimeState& state, std::string& error) {
    if (!v.is_object()) return fail(error, "\"shadow\" must be an object");
    const auto& obj = v.get_object();
    if (!check_keys(obj, {"pool", "percent", "diff"}, "shadow", error)) return false;
    ShadowRuntime shadow;
    if (!read_name(obj, "pool", true, shadow.pool, error)) return fail(error, "shadow: " + error);
    const json::value* percent = obj.if_contains("percent");
    if (percent == nullptr) return fail(error, "shadow: \"percent\" is missing");
    if (!detail::read_percent_milli(*percent, "shadow percent", shadow.percent_milli, error))
        return false;
    const json::value* diff = obj.if_contains("diff");
    if (diff == nullptr || !diff->is_bool())
        return fail(error, "shadow: \"diff\" must be true or false");
    shadow.diff = diff->get_bool();
    if (shadow.pool.empty() && (shadow.percent_milli > 0 || shadow.diff))
        return fail(error, "shadow percent above 0 or diff without a shadow pool");
    state.shadow = std::move(shadow);
    return true;
}

bool parse_state(std::string_view text, RuntimeState& state, RolloutSnapshot& rollout,
                 std::string& error, bool* has_shadow = nullptr) {
    boost::system::error_code ec;
    json::value root = json::parse(json::string_view(text.data(), text.size()), ec);
    if (ec) return fail(error, "not JSON: " + ec.message());
    if (!root.is_object()) return fail(error, "not a JSON object");
    const auto& obj = root.get_object();
    if (!check_keys(obj,
                    {"version", "active", "previous", "canary", "generation", "servers", "flags",
                     "shadow", "rollout"},
                    "state", error))
        return false;
    const json::value* version = obj.if_contains("version");
    if (version == nullptr) return fail(error, "\"version\" is missing");
    if (as_u64(*version) != std::optional<std::uint64_t>(1))
        return fail(error,
                    "unsupported \"version\" " + json::serialize(*version) + " (expected 1)");
    if (!read_name(obj, "active", false, state.active, error)) return false;
    if (!read_name(obj, "previous", true, state.previous, error)) return false;

    const json::value* canary = obj.if_contains("canary");
    if (canary == nullptr) return fail(error, "\"canary\" is missing");
    if (!canary->is_object()) return fail(error, "\"canary\" must be an object");
    const auto& cobj = canary->get_object();
    if (!check_keys(cobj, {"pool", "weight"}, "canary", error)) return false;
    if (!read_name(cobj, "pool", true, state.canary_pool, error))
        return fail(error, "canary: " + error);
    const json::value* weight = cobj.if_contains("weight");
    if (weight == nullptr) return fail(error, "canary: \"weight\" is missing");
    if (!read_weight_bp(*weight, state.canary_weight_bp, error)) return false;
    if (state.canary_pool.empty() && state.canary_weight_bp > 0)
        return fail(error, "canary weight above 0 without a canary pool");

    const json::value* generation = obj.if_contains("generation");
    if (generation == nullptr) return fail(error, "\"generation\" is missing");
    auto g = as_u64(*generation);
    if (!g) return fail(error, "\"generation\" must be a non-negative integer");
    state.generation = *g;

    if (const json::value* servers = obj.if_contains("servers"))
        if (!read_servers(*servers, state, error)) return false;
    if (const json::value* flags = obj.if_contains("flags"))
        if (!read_flags(*flags, state, error)) return false;
    const json::value* shadow = obj.if_contains("shadow");
    if (shadow != nullptr && !read_shadow(*shadow, state, error)) return false;
    if (has_shadow != nullptr) *has_shadow = shadow != nullptr;
    if (const json::value* r = obj.if_contains("rollout"))
        if (!detail::read_rollout(*r, rollout, error)) return false;
    return true;
}

std::string errno_text(int err) {
    return std::strerror(err);
}

bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

}  // namespace

bool make_directories(const std::string& dir, std::string& error) {
    if (dir.empty()) return true;
    for (std::size_t pos = 1; pos <= dir.size(); ++pos) {
        if (pos != dir.size() && dir[pos] != '/') continue;
        const std::string prefix = dir.substr(0, pos);
        if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST)
            return fail(error, "cannot create directory " + prefix + ": " + errno_text(errno));
    }
    return true;
}

std::optional<RuntimeState> from_json(std::string_view text, RolloutSnapshot& rollout,
                                      std::string& error) {
    RuntimeState state;
    RolloutSnapshot read;
    if (!parse_state(text, state, read, error)) return std::nullopt;
    rollout = std::move(read);
    return state;
}

std::optional<RuntimeState> from_json(std::string_view text, std::string& error) {
    RolloutSnapshot ignored;
    return from_json(text, ignored, error);
}

bool save_state_file(const std::string& path, const RuntimeState& state,
                     const RolloutSnapshot& rollout, std::string& error, bool record_shadow_off) {
    std::string dir = std::filesystem::path(path).parent_path();
    if (dir.empty()) dir = ".";  // a bare file name: the directory to sync is the current one
    if (!make_directories(dir, error)) return fail(error, "cannot save state: " + error);
    const std::string tmp = path + ".tmp." + std::to_string(::getpid());
    const std::string text = to_json(state, rollout, record_shadow_off) + "\n";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return fail(error, "cannot save state: " + tmp + ": " + errno_text(errno));
    if (!write_all(fd, text) || ::fsync(fd) != 0) {
        const int err = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        return fail(error, "cannot save state: " + tmp + ": " + errno_text(err));
    }
    if (::close(fd) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        return fail(error, "cannot save state: " + tmp + ": " + errno_text(err));
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        return fail(error, "cannot save state: rename to " + path + ": " + errno_text(err));
    }
    // Without this the rename itself may not survive a crash.
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || ::fsync(dfd) != 0) {
        const int err = errno;
        if (dfd >= 0) ::close(dfd);
        return fail(error, "cannot save state: sync directory " + dir + ": " + errno_text(err));
    }
    ::close(dfd);
    return true;
}

LoadStatus load_state_file(const std::string& path, RuntimeState& out, RolloutSnapshot& rollout,
                           std::string& error) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return LoadStatus::missing;
        error = "state file " + path + ": " + errno_text(errno);
        return LoadStatus::corrupt;
    }
    std::string text;
    char buf[8192];
    constexpr std::size_t kMaxBytes = 16 * 1024 * 1024;  // far above any real state
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            error = "state file " + path + ": " + errno_text(errno);
            ::close(fd);
            return LoadStatus::corrupt;
        }
        if (n == 0) break;
        text.append(buf, static_cast<std::size_t>(n));
        if (text.size() > kMaxBytes) {
            ::close(fd);
            error = "state file " + path + ": larger than 16 MiB";
            return LoadStatus::corrupt;
        }
    }
    ::close(fd);
    std::string why;
    RuntimeState state;
    RolloutSnapshot read;
    bool has_shadow = false;
    if (!parse_state(text, state, read, why, &has_shadow)) {
        error = "state file " + path + ": " + why;
        return LoadStatus::corrupt;
    }
    // Written before mirroring existed: the caller's (the config's) shadow.
    if (!has_shadow) state.shadow = out.shadow;
    out = std::move(state);
    rollout = std::move(read);
    return LoadStatus::ok;
}

}  // namespace switchyard::control
