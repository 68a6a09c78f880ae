// SIGUSR1 reopens the log files (logrotate): after a rename, lines before
// the signal are in the old file and lines after it in a new one at the
// configured path; a reopen that fails keeps the old file and says why.
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "fixture.hpp"

namespace sy_it {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> lines_of(const fs::path& p) {
    std::vector<std::string> lines;
    const std::string text = read_file(p);
    std::size_t start = 0;
    for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
        lines.push_back(text.substr(start, nl - start));
    return lines;
}

bool contains(const fs::path& p, std::string_view what) {
    return read_file(p).find(what) != std::string::npos;
}

// Replaces the one occurrence of `from` in `text`; false if there is none.
bool replace_once(std::string& text, const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    if (at == std::string::npos) return false;
    text.replace(at, from.size(), to);
    return true;
}

class LogReopen : public ProxyTest {
  protected:
    // Two workers, so that lines buffered on both must reach the old file.
    ProxyConfig file_logs() {
        ProxyConfig cfg = base_config();
        cfg.workers = 2;
        cfg.level = "info";
        cfg.access_log_file = true;
        cfg.error_log_file = true;
        cfg.audit_log_file = true;
        return cfg;
    }

    // `n` GETs of /TAG-i, each on its own connection (spread over the workers).
    void send_requests(int n, const std::string& tag) {
        for (int i = 0; i < n; ++i) {
            HttpConn c = proxy_->connect();
            auto r = c.roundtrip(get_request("/" + tag + "-" + std::to_string(i)));
            ASSERT_EQ(r.status(), 200u) << tag << " " << i;
        }
    }

    std::string control(const std::string& line) {
        return control_command(dir_ / "control.sock", line);
    }

    // Waits (up to 5 s; the access log is flushed by the workers' tick)
    // until `p` holds at least `n` lines; returns all of them.
    std::vector<std::string> wait_lines(const fs::path& p, std::size_t n) {
        std::vector<std::string> lines;
        poll_until(after(seconds(5)), [&] {
            lines = lines_of(p);
            return lines.size() >= n;
        });
        return lines;
    }

    void TearDown() override {
        if (HasFailure() && proxy_ && fs::exists(proxy_->error_log_path()))
            std::cerr << "--- error.log ---\n" << read_file(proxy_->error_log_path()) << "\n";
        ProxyTest::TearDown();
    }
};

TEST_F(LogReopen, RenamedLogsGoOnInNewFilesAfterSigusr1) {
    Switchyard& sy = start_proxy(file_logs());
    const fs::path access = sy.access_log_path();
    const fs::path error = sy.error_log_path();
    const fs::path audit = sy.audit_log_path();
    ASSERT_TRUE(poll_until(after(seconds(5)), [&] { return contains(error, "serving"); }))
        << read_file(error);

    constexpr int kBefore = 9;
    constexpr int kAfter = 6;
    send_requests(kBefore, "before");
    EXPECT_NE(control("canary green 5").find("\"ok\":true"), std::string::npos);

    // As logrotate does: rename, then signal. The access lines may still be
    // in the workers' buffers; they must end up in the old file all the same.
    fs::rename(access, dir_ / "access.log.1");
    fs::rename(error, dir_ / "error.log.1");
    fs::rename(audit, dir_ / "audit.log.1");
    const mode_t mask = ::umask(0);
    ::umask(mask);
    sy.process().signal(SIGUSR1);

    ASSERT_TRUE(poll_until(after(seconds(5)),
                           [&] { return contains(error, "SIGUSR1: reopened log files"); }))
        << "new error.log: " << read_file(error) << "\nold: " << read_file(dir_ / "error.log.1");
    EXPECT_TRUE(fs::exists(access));
    EXPECT_TRUE(fs::exists(audit));
    struct stat st {};
    ASSERT_EQ(::stat(access.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0640u & ~mask);

    send_requests(kAfter, "after");
    EXPECT_NE(control("canary green 0").find("\"ok\":true"), std::string::npos);

    const auto new_lines = wait_lines(access, kAfter);
    const auto old_lines = wait_lines(dir_ / "access.log.1", kBefore);
    ASSERT_EQ(old_lines.size(), static_cast<std::size_t>(kBefore));
    ASSERT_EQ(new_lines.size(), static_cast<std::size_t>(kAfter));
    for (const auto& line : old_lines)
        EXPECT_NE(line.find("\"target\":\"/before-"), std::string::npos) << line;
    for (const auto& line : new_lines)
        EXPECT_NE(line.find("\"target\":\"/after-"), std::string::npos) << line;

    const std::string old_error = read_file(dir_ / "error.log.1");
    EXPECT_NE(old_error.find("serving"), std::string::npos);
    EXPECT_EQ(old_error.find("SIGUSR1"), std::string::npos);

    const std::string old_audit = read_file(dir_ / "audit.log.1");
    const std::string new_audit = read_file(audit);
    EXPECT_NE(old_audit.find("command=\"canary green 5\""), std::string::npos) << old_audit;
    EXPECT_EQ(old_audit.find("canary green 0"), std::string::npos) << old_audit;
    EXPECT_NE(new_audit.find("command=\"canary green 0\""), std::string::npos) << new_audit;
    EXPECT_EQ(new_audit.find("canary green 5"), std::string::npos) << new_audit;
    EXPECT_TRUE(sy.process().running());
}

TEST_F(LogReopen, FailedReopenKeepsServingIntoTheOldFilesAndSaysWhy) {
    Switchyard& sy = start_proxy(file_logs());
    const fs::path access = sy.access_log_path();
    const fs::path error = sy.error_log_path();
    ASSERT_TRUE(poll_until(after(seconds(5)), [&] { return contains(error, "serving"); }))
        << read_file(error);

    send_requests(4, "before");
    // A directory where the files were: open() fails with EISDIR (also as
    // root, for whom permission bits would not).
    fs::rename(access, dir_ / "access.log.1");
    fs::rename(error, dir_ / "error.log.1");
    fs::create_directory(access);
    fs::create_directory(error);
    sy.process().signal(SIGUSR1);

    const std::string eisdir = std::strerror(EISDIR);
    const std::string access_failure = "SIGUSR1: cannot reopen access log " + access.string() +
                                       ": " + eisdir + "; still writing to the old file";
    const std::string error_failure = "SIGUSR1: cannot reopen " + error.string() + ": " + eisdir +
                                      "; still writing to the old file";
    ASSERT_TRUE(poll_until(after(seconds(5)), [&] {
        return contains(dir_ / "error.log.1", access_failure) &&
               contains(dir_ / "error.log.1", error_failure);
    })) << read_file(dir_ / "error.log.1");
    EXPECT_NE(read_file(dir_ / "error.log.1").find(" error SIGUSR1: cannot reopen"),
              std::string::npos);
    EXPECT_EQ(read_file(dir_ / "error.log.1").find("reopened log files"), std::string::npos);

    // It keeps serving, and every access line goes to the old file.
    send_requests(3, "during");
    EXPECT_TRUE(sy.process().running());
    auto old_lines = wait_lines(dir_ / "access.log.1", 7);
    EXPECT_EQ(old_lines.size(), 7u);

    // Once the paths are usable again, the next SIGUSR1 succeeds.
    fs::remove(access);
    fs::remove(error);
    sy.process().signal(SIGUSR1);
    ASSERT_TRUE(poll_until(after(seconds(5)), [&] {
        return contains(error, "SIGUSR1: reopened log files");
    })) << read_file(dir_ / "error.log.1");
    send_requests(2, "after");
    auto new_lines = wait_lines(access, 2);
    EXPECT_EQ(new_lines.size(), 2u);
    EXPECT_EQ(lines_of(dir_ / "access.log.1").size(), 7u);
}

// The shipped conf/logrotate, run by the real logrotate against a running
// process: only the directory, the owner of new files and the way to find
// the process are changed.
TEST_F(LogReopen, ShippedLogrotateConfigRotatesARunningProcess) {
    std::string logrotate;
    for (const char* p : {"/usr/sbin/logrotate", "/sbin/logrotate", "/usr/bin/logrotate"})
        if (::access(p, X_OK) == 0) logrotate = p;
    if (logrotate.empty()) GTEST_SKIP() << "logrotate is not installed (apt-get install logrotate)";

    Switchyard& sy = start_proxy(file_logs());
    const fs::path access = sy.access_log_path();
    const fs::path error = sy.error_log_path();
    ASSERT_TRUE(poll_until(after(seconds(5)), [&] { return contains(error, "serving"); }))
        << read_file(error);
    send_requests(5, "before");
    // notifempty: logrotate skips empty files, so the lines must be there.
    ASSERT_EQ(wait_lines(access, 5).size(), 5u);

    std::string conf = read_file(fs::path(SWITCHYARD_SOURCE_DIR) / "conf" / "logrotate");
    const passwd* user = ::getpwuid(::geteuid());
    const group* grp = ::getgrgid(::getegid());
    ASSERT_TRUE(user != nullptr && grp != nullptr);
    ASSERT_TRUE(replace_once(conf, "/var/log/switchyard/*.log", (dir_ / "*.log").string()));
    ASSERT_TRUE(replace_once(conf, "create 0640 switchyard adm",
                             std::string("create 0640 ") + user->pw_name + " " + grp->gr_name));
    ASSERT_TRUE(replace_once(conf, "if [ -d /run/systemd/system ]", "if false"));
    ASSERT_TRUE(replace_once(conf, "$(pidof switchyard)", std::to_string(sy.pid())));
    write_file(dir_ / "logrotate.conf", conf);

    Process::Options o;
    o.argv = {logrotate, "-f", "-s", (dir_ / "logrotate.state").string(),
              (dir_ / "logrotate.conf").string()};
    o.stdout_path = dir_ / "logrotate.stdout";
    o.stderr_path = dir_ / "logrotate.stderr";
    {
        Process run(o);
        auto status = run.wait_exit(after(seconds(20)));
        ASSERT_TRUE(exited_with(status, 0)) << read_file(o.stderr_path);
    }
    ASSERT_TRUE(poll_until(after(seconds(5)),
                           [&] { return contains(error, "SIGUSR1: reopened log files"); }))
        << read_file(o.stderr_path) << read_file(dir_ / "error.log.1");

    send_requests(3, "after");
    const auto new_lines = wait_lines(access, 3);
    EXPECT_EQ(new_lines.size(), 3u);
    for (const auto& line : new_lines)
        EXPECT_NE(line.find("\"target\":\"/after-"), std::string::npos) << line;
    EXPECT_EQ(lines_of(dir_ / "access.log.1").size(), 5u);
    struct stat st {};
    ASSERT_EQ(::stat(access.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0640u);  // logrotate's `create`
}

}  // namespace
}  // namespace sy_it
