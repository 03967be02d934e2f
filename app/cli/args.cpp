#include <algorithm>
#include <charconv>
#include <cmath>

#include "commands.hpp"

namespace cli {

namespace {
bool matches(const std::string& argument, const std::string& name) {
    return argument == "--" + name || argument.rfind("--" + name + "=", 0) == 0;
}
}  // namespace

bool ArgParser::has_option(const std::string& name) const {
    return std::any_of(args_.begin(), args_.end(),
                       [&](const std::string& a) { return matches(a, name); });
}

std::string ArgParser::option(const std::string& name, const std::string& fallback) {
    for (size_t i = 0; i < args_.size(); ++i) {
        if (!matches(args_[i], name)) continue;
        std::string value;
        size_t equals = args_[i].find('=');
        if (equals != std::string::npos) {
            value = args_[i].substr(equals + 1);
            args_.erase(args_.begin() + static_cast<long>(i));
        } else {
            if (i + 1 >= args_.size()) throw UsageError("--" + name + " needs a value");
            value = args_[i + 1];
            args_.erase(args_.begin() + static_cast<long>(i), args_.begin() + static_cast<long>(i) + 2);
        }
        return value;
    }
    return fallback;
}

double ArgParser::number(const std::string& name, double fallback) {
    if (!has_option(name)) return fallback;
    std::string text = option(name);
    double value = 0;
    auto result = std::from_chars(text.data(), text.data() + text.size(), value);
    if (result.ec != std::errc() || result.ptr != text.data() + text.size() || !std::isfinite(value))
        throw UsageError("--" + name + " expects a number, got '" + text + "'");
    return value;
}

long long ArgParser::integer(const std::string& name, long long fallback) {
    if (!has_option(name)) return fallback;
    std::string text = option(name);
    long long value = 0;
    auto result = std::from_chars(text.data(), text.data() + text.size(), value);
    if (result.ec != std::errc() || result.ptr != text.data() + text.size())
        throw UsageError("--" + name + " expects a whole number, got '" + text + "'");
    return value;
}

bool ArgParser::flag(const std::string& name) {
    auto it = std::find(args_.begin(), args_.end(), "--" + name);
    if (it == args_.end()) return false;
    args_.erase(it);
    return true;
}

Args ArgParser::positionals() const {
    for (const auto& a : args_)
        if (a.size() > 2 && a.rfind("--", 0) == 0) throw UsageError("unknown option " + a);
    return args_;
}

}  // namespace cli
