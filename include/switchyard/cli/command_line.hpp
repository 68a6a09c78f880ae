// Command-line parsing for the four programs (switchyard, switchyardctl,
// switchyard-echo, switchyard-load), on CLI11: one way to declare options,
// typed values, and help generated from the declarations.
//
// What the programs share: help in their own layout (a usage line they
// write, then CLI11's option list, then a footer), an option given twice
// keeps the last value, a flag takes no value (--json=yes is an error), and
// a parse error is a message for the program to print with its usage and
// exit 2, never an exception or an exit inside the parser.
#pragma once

#include <CLI/CLI.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

namespace switchyard::cli {

// Help text: `usage` (the program's own usage line and whatever it puts
// before the option list), CLI11's list of the visible options, the footer.
class HelpFormatter : public CLI::Formatter {
  public:
    explicit HelpFormatter(std::string usage) : usage_(std::move(usage)) {
        column_width(22);
        label("OPTIONS", "options");
    }
    std::string make_usage(const CLI::App*, std::string) const override { return usage_; }
    // At most one blank line between parts and one line break at the end,
    // as a hand-written usage text has.
    std::string make_help(const CLI::App* app, std::string name,
                          CLI::AppFormatMode mode) const override {
        std::string text = CLI::Formatter::make_help(app, std::move(name), mode);
        for (auto at = text.find("\n\n\n"); at != std::string::npos; at = text.find("\n\n\n"))
            text.erase(at, 1);
        while (text.size() >= 2 && text[text.size() - 2] == '\n')
            text.pop_back();
        return text;
    }

  private:
    std::string usage_;
};

// Sets `app` up the shared way before the program adds its options; `usage`
// starts the help text (see HelpFormatter).
inline void configure(CLI::App& app, std::string usage) {
    app.formatter(std::make_shared<HelpFormatter>(std::move(usage)));
    app.set_help_flag();  // added last by add_help_flag, so it is listed last
    app.option_defaults()
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)
        ->disable_flag_override()
        ->group("options");
}

// After the program's options: -h, --help.
inline void add_help_flag(CLI::App& app) {
    app.set_help_flag("-h,--help", "this text")->group("options");
}

// A bounds check on a typed option ("--threads: Value 0 not in range 1 to
// 256"), kept out of the option's name in the help.
template <typename T>
CLI::Validator in_range(T min, T max) {
    return CLI::Range(min, max).description("");
}

struct ParseResult {
    bool ok = false;
    bool help = false;  // -h or --help: print app.help() and exit 0
    std::string error;  // when !ok
};

// Parses `args` (without the program name).
inline ParseResult parse(CLI::App& app, const std::vector<std::string>& args) {
    // CLI11 takes the arguments in reverse order and consumes them.
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    ParseResult r;
    try {
        app.parse(reversed);
        r.ok = true;
    } catch (const CLI::CallForHelp&) {
        r.ok = true;
        r.help = true;
    } catch (const CLI::ParseError& e) {
        r.error = e.what();
    }
    return r;
}

}  // namespace switchyard::cli
