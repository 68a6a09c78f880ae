#include "exposition_check.hpp"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <regex>
#include <set>

namespace sy_it {

namespace {

bool is_name(const std::string& s, bool colon) {
    static const std::regex metric("[a-zA-Z_:][a-zA-Z0-9_:]*");
    static const std::regex label("[a-zA-Z_][a-zA-Z0-9_]*");
    return std::regex_match(s, colon ? metric : label);
}

bool parse_value(const std::string& s, double& out) {
    if (s == "+Inf" || s == "Inf") {
        out = std::numeric_limits<double>::infinity();
        return true;
    }
    if (s == "-Inf") {
        out = -std::numeric_limits<double>::infinity();
        return true;
    }
    if (s == "NaN") {
        out = std::nan("");
        return true;
    }
    if (s.empty()) return false;
    char* end = nullptr;
    out = std::strtod(s.c_str(), &end);
    return end == s.c_str() + s.size();
}

// The family a sample name belongs to, given the declared types.
std::string family_of(const std::string& name, const std::map<std::string, std::string>& types) {
    if (types.count(name)) return name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        const std::string s = suffix;
        if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
            const std::string base = name.substr(0, name.size() - s.size());
            auto it = types.find(base);
            if (it != types.end() && (it->second == "histogram" || it->second == "summary"))
                return base;
        }
    }
    return name;
}

}  // namespace

double Exposition::value(const std::string& name,
                         const std::map<std::string, std::string>& labels) const {
    for (const auto& s : samples)
        if (s.name == name && s.labels == labels) return s.value;
    return std::nan("");
}

double Exposition::sum(const std::string& name,
                       const std::map<std::string, std::string>& match) const {
    double total = 0;
    for (const auto& s : samples) {
        if (s.name != name) continue;
        bool ok = true;
        for (const auto& [k, v] : match) {
            auto it = s.labels.find(k);
            ok = ok && it != s.labels.end() && it->second == v;
        }
        if (ok) total += s.value;
    }
    return total;
}

Exposition parse_exposition(const std::string& text) {
    Exposition e;
    auto error = [&](std::size_t line_no, const std::string& what) {
        e.errors.push_back("line " + std::to_string(line_no) + ": " + what);
    };
    if (!text.empty() && text.back() != '\n') error(0, "the text does not end with a line feed");
    std::set<std::string> series;
    std::set<std::string> finished;  // families whose samples ended
    std::string current;
    std::size_t pos = 0, line_no = 0;
    while (pos < text.size()) {
        ++line_no;
        auto end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        const std::string line = text.substr(pos, end - pos);
        pos = end + 1;
        if (line.empty()) continue;
        if (line[0] == '#') {
            std::smatch m;
            static const std::regex meta("# (HELP|TYPE) ([^ ]+) ?(.*)");
            if (!std::regex_match(line, m, meta)) continue;  // a plain comment
            const std::string name = m[2];
            if (!is_name(name, true)) error(line_no, "bad metric name " + name);
            if (m[1] == "TYPE") {
                static const std::set<std::string> kTypes = {"counter", "gauge", "histogram",
                                                             "summary", "untyped"};
                if (!kTypes.count(m[3])) error(line_no, "bad type " + std::string(m[3]));
                if (e.types.count(name)) error(line_no, "second TYPE for " + name);
                for (const auto& s : e.samples)
                    if (family_of(s.name, {{name, m[3]}}) == name)
                        error(line_no, "TYPE after samples of " + name);
                e.types[name] = m[3];
            }
            continue;
        }
        ExpositionSample s;
        std::size_t i = 0;
        while (i < line.size() && line[i] != '{' && line[i] != ' ')
            ++i;
        s.name = line.substr(0, i);
        if (!is_name(s.name, true)) error(line_no, "bad metric name in " + line);
        std::string key = s.name;
        if (i < line.size() && line[i] == '{') {
            ++i;
            while (i < line.size() && line[i] != '}') {
                std::size_t eq = line.find('=', i);
                if (eq == std::string::npos) {
                    error(line_no, "label without '=': " + line);
                    break;
                }
                const std::string label = line.substr(i, eq - i);
                if (!is_name(label, false)) error(line_no, "bad label name " + label);
                if (eq + 1 >= line.size() || line[eq + 1] != '"') {
                    error(line_no, "unquoted label value: " + line);
                    break;
                }
                std::string value;
                std::size_t j = eq + 2;
                bool closed = false;
                for (; j < line.size(); ++j) {
                    if (line[j] == '\\') {
                        if (j + 1 >= line.size()) break;
                        const char c = line[++j];
                        if (c == 'n')
                            value += '\n';
                        else if (c == '\\' || c == '"')
                            value += c;
                        else
                            error(line_no, "bad escape in " + line);
                    } else if (line[j] == '"') {
                        closed = true;
                        break;
                    } else {
                        value += line[j];
                    }
                }
                if (!closed) {
                    error(line_no, "unterminated label value: " + line);
                    break;
                }
                if (!s.labels.emplace(label, value).second)
                    error(line_no, "label " + label + " twice: " + line);
                i = j + 1;
                if (i < line.size() && line[i] == ',') ++i;
            }
            if (i >= line.size() || line[i] != '}') {
                error(line_no, "unterminated label set: " + line);
                continue;
            }
            ++i;
        }
        if (i >= line.size() || line[i] != ' ') {
            error(line_no, "no value: " + line);
            continue;
        }
        std::string rest = line.substr(i + 1);
        const auto space = rest.find(' ');  // an optional timestamp follows
        if (!parse_value(rest.substr(0, space), s.value)) error(line_no, "bad value: " + line);
        for (const auto& [k, v] : s.labels)
            key += "|" + k + "=" + v;
        if (!series.insert(key).second) error(line_no, "duplicate series: " + line);
        const std::string family = family_of(s.name, e.types);
        if (family != current) {
            if (finished.count(family)) error(line_no, "samples of " + family + " are split");
            if (!current.empty()) finished.insert(current);
            current = family;
        }
        auto type = e.types.find(family);
        if (type != e.types.end() && type->second == "counter" && s.value < 0)
            error(line_no, "negative counter: " + line);
        e.samples.push_back(std::move(s));
    }

    // Histograms: per series (labels without le), buckets ascending and
    // cumulative, +Inf = _count.
    for (const auto& [family, type] : e.types) {
        if (type != "histogram") continue;
        std::map<std::map<std::string, std::string>, std::vector<std::pair<double, double>>>
            buckets;
        for (const auto& s : e.samples) {
            if (s.name != family + "_bucket") continue;
            auto labels = s.labels;
            auto le = labels.find("le");
            double bound = 0;
            if (le == labels.end() || !parse_value(le->second, bound)) {
                error(0, family + "_bucket without a valid le");
                continue;
            }
            labels.erase(le);
            buckets[labels].emplace_back(bound, s.value);
        }
        for (const auto& [labels, list] : buckets) {
            for (std::size_t k = 1; k < list.size(); ++k) {
                if (!(list[k].first > list[k - 1].first)) error(0, family + ": le not ascending");
                if (list[k].second < list[k - 1].second)
                    error(0, family + ": cumulative count decreases");
            }
            if (list.empty() || !std::isinf(list.back().first)) {
                error(0, family + ": no +Inf bucket");
                continue;
            }
            const double count = e.value(family + "_count", labels);
            if (list.back().second != count) error(0, family + ": +Inf bucket != _count");
            if (std::isnan(e.value(family + "_sum", labels))) error(0, family + ": no _sum");
        }
    }
    return e;
}

}  // namespace sy_it
