#pragma once
// transcura-cli sub-commands. Each returns the process exit code; errors are reported by main()
// as one line on stderr ("transcura-cli: <message>") with exit code 1 (2 for usage errors).
#include <stdexcept>
#include <string>
#include <vector>

namespace cli {

using Args = std::vector<std::string>;

/// Bad command line: main prints the message and the command's usage, exit code 2.
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Small argument scanner shared by the commands: `--name value`, `--name=value`, `--flag`.
class ArgParser {
public:
    explicit ArgParser(Args args) : args_(std::move(args)) {}
    /// Removes and returns the value of --name, or `fallback` when absent.
    std::string option(const std::string& name, const std::string& fallback = {});
    bool has_option(const std::string& name) const;
    double number(const std::string& name, double fallback);
    long long integer(const std::string& name, long long fallback);
    /// Removes --name when present.
    bool flag(const std::string& name);
    /// What is left after options are taken; throws UsageError on a leftover --option.
    Args positionals() const;

private:
    Args args_;
};

int info(const Args& args);
int convert(const Args& args);
int run(const Args& args);
int simulate(const Args& args);
int diagnose(const Args& args);
int export_subset(const Args& args);

}  // namespace cli
