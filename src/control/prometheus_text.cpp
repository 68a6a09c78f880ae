#include "switchyard/control/prometheus_text.hpp"

#include <charconv>
#include <cmath>

namespace switchyard::control {

namespace {

// Help text: backslash and line feed escaped. Label values: the same plus
// the double quote.
void append_escaped(std::string& out, std::string_view s, bool quote) {
    for (char c : s) {
        switch (c) {
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '"':
                if (quote) {
                    out += "\\\"";
                    break;
                }
                [[fallthrough]];
            default:
                out += c;
        }
    }
}

template <typename T>
void append_integer(std::string& out, T v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

std::string_view type_name(PrometheusText::Type t) {
    switch (t) {
        case PrometheusText::Type::counter:
            return "counter";
        case PrometheusText::Type::histogram:
            return "histogram";
        case PrometheusText::Type::gauge:
            break;
    }
    return "gauge";
}

}  // namespace

std::string format_prometheus_double(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    // Plain decimals where they are short ("0.0005", not "5e-04"): `le`
    // label values are matched as strings by queries that name a bucket.
    char buf[64];
    const double mag = std::fabs(v);
    const auto format = mag == 0 || (mag >= 1e-6 && mag < 1e15) ? std::chars_format::fixed
                                                                : std::chars_format::general;
    auto r = std::to_chars(buf, buf + sizeof buf, v, format);
    return std::string(buf, r.ptr);
}

void PrometheusText::family(std::string_view name, Type type, std::string_view help) {
    name_ = name;
    type_ = type;
    const std::string_view full = name_;
    out_ += "# HELP ";
    out_ += full;
    if (type == Type::counter) out_ += "_total";
    out_ += ' ';
    append_escaped(out_, help, false);
    out_ += "\n# TYPE ";
    out_ += full;
    if (type == Type::counter) out_ += "_total";
    out_ += ' ';
    out_ += type_name(type);
    out_ += '\n';
}

void PrometheusText::begin_sample(std::string_view suffix, std::initializer_list<Label> labels,
                                  const Label* extra) {
    out_ += name_;
    out_ += suffix;
    if (labels.size() > 0 || extra != nullptr) {
        out_ += '{';
        bool first = true;
        auto put = [&](const Label& l) {
            if (!first) out_ += ',';
            first = false;
            out_ += l.first;
            out_ += "=\"";
            append_escaped(out_, l.second, true);
            out_ += '"';
        };
        for (const auto& l : labels)
            put(l);
        if (extra != nullptr) put(*extra);
        out_ += '}';
    }
    out_ += ' ';
}

void PrometheusText::sample(std::initializer_list<Label> labels, std::uint64_t value) {
    begin_sample(type_ == Type::counter ? "_total" : "", labels);
    append_integer(out_, value);
    out_ += '\n';
}

void PrometheusText::sample(std::initializer_list<Label> labels, std::int64_t value) {
    begin_sample(type_ == Type::counter ? "_total" : "", labels);
    append_integer(out_, value);
    out_ += '\n';
}

void PrometheusText::sample(std::initializer_list<Label> labels, double value) {
    begin_sample(type_ == Type::counter ? "_total" : "", labels);
    out_ += format_prometheus_double(value);
    out_ += '\n';
}

void PrometheusText::histogram(std::initializer_list<Label> labels, const LatencyBuckets& h) {
    for (std::size_t i = 0; i < LatencyBuckets::kBoundsMicros.size(); ++i) {
        const std::string le =
            format_prometheus_double(static_cast<double>(LatencyBuckets::kBoundsMicros[i]) / 1e6);
        const Label extra{"le", le};
        begin_sample("_bucket", labels, &extra);
        append_integer(out_, h.cumulative(i));
        out_ += '\n';
    }
    const Label inf{"le", "+Inf"};
    begin_sample("_bucket", labels, &inf);
    append_integer(out_, h.count());
    out_ += '\n';
    begin_sample("_sum", labels);
    out_ += format_prometheus_double(static_cast<double>(h.sum_micros()) / 1e6);
    out_ += '\n';
    begin_sample("_count", labels);
    append_integer(out_, h.count());
    out_ += '\n';
}

}  // namespace switchyard::control
