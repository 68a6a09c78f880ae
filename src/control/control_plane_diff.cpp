// ControlPlane: `diff` and `diff reset` (DESIGN.md "Dark launch"): the
// workers' comparison tables, summed, with the noise rule applied.
#include "switchyard/control/control_plane.hpp"
#include "switchyard/core/diff_report.hpp"
#include "switchyard/core/json_writer.hpp"

namespace switchyard::control {

void ControlPlane::diff(Reply reply) {
    data_plane_.collect(false, [this, reply = std::move(reply)](TrafficTotals stats) {
        const ShadowRuntime& shadow = runtime_.shadow;
        const ShadowDiffSettings& config = settings_->shadow.diff;
        std::string line;
        JsonWriter w(line);
        w.begin_object().key("ok").boolean(true);
        w.key("pool").string_or_null(shadow.pool);
        w.key("enabled").boolean(!shadow.pool.empty() && shadow.diff);
        w.key("secondary").boolean(config.secondary);
        write_diff_report_members(w, stats.diff);
        w.end_object();
        reply(std::move(line));
    });
}

void ControlPlane::reset_diff(const ControlCommand& command, const PeerCredentials& peer,
                              Reply reply) {
    data_plane_.reset_diff([this, text = command.text, peer, reply = std::move(reply)] {
        audit(peer, text, "ok");
        reply(R"({"ok":true,"reset":true})");
    });
}

}  // namespace switchyard::control
