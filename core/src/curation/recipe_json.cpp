// Recipe <-> JSON, descriptions, load/save.
#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

#include "transcura/atomic_file.hpp"
#include "transcura/errors.hpp"
#include "transcura/recipe.hpp"

namespace transcura {

using nlohmann::json;

namespace {

std::string number_text(double value) {
    char buffer[32];
    auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    return std::string(buffer, result.ptr);
}

std::string list_text(const std::vector<std::string>& values, size_t max_shown = 5) {
    std::string out;
    for (size_t i = 0; i < values.size() && i < max_shown; ++i) {
        if (i) out += ", ";
        out += values[i];
    }
    if (values.size() > max_shown) out += ", ... (" + std::to_string(values.size()) + " in all)";
    return out;
}

class StepReader {
public:
    StepReader(const json& object, const std::string& context, size_t index)
        : object_(object), context_(context), where_("steps[" + std::to_string(index) + "]") {}

    [[noreturn]] void fail(const std::string& problem) const {
        throw FormatError(context_, where_, problem);
    }
    bool has(const char* key) const {
        used_.push_back(key);
        return object_.contains(key) && !object_.at(key).is_null();
    }
    std::string string(const char* key, bool required) const {
        if (!has(key)) {
            if (required) fail(std::string("needs \"") + key + "\"");
            return {};
        }
        const json& value = object_.at(key);
        if (!value.is_string()) fail(std::string("\"") + key + "\" must be a string");
        return value.get<std::string>();
    }
    std::optional<double> number(const char* key) const {
        if (!has(key)) return std::nullopt;
        const json& value = object_.at(key);
        if (!value.is_number()) fail(std::string("\"") + key + "\" must be a number");
        return value.get<double>();
    }
    bool boolean(const char* key, bool fallback) const {
        if (!has(key)) return fallback;
        const json& value = object_.at(key);
        if (!value.is_boolean()) fail(std::string("\"") + key + "\" must be true or false");
        return value.get<bool>();
    }
    /// Strings; numbers and booleans are accepted as the text Column::text gives them.
    std::vector<std::string> strings(const char* key, bool required) const {
        std::vector<std::string> out;
        if (!has(key)) {
            if (required) fail(std::string("needs \"") + key + "\" (a list)");
            return out;
        }
        const json& value = object_.at(key);
        if (!value.is_array()) fail(std::string("\"") + key + "\" must be a list");
        for (const json& item : value) {
            if (item.is_string())
                out.push_back(item.get<std::string>());
            else if (item.is_boolean())
                out.push_back(item.get<bool>() ? "True" : "False");
            else if (item.is_number_integer())
                out.push_back(std::to_string(item.get<int64_t>()));
            else if (item.is_number())
                out.push_back(number_text(item.get<double>()));
            else
                fail(std::string("\"") + key + "\" must list strings");
        }
        return out;
    }
    json extra() const {
        json out = json::object();
        for (auto it = object_.begin(); it != object_.end(); ++it) {
            if (std::find(used_.begin(), used_.end(), it.key()) == used_.end())
                out[it.key()] = it.value();
        }
        return out;
    }

private:
    const json& object_;
    std::string context_, where_;
    mutable std::vector<std::string> used_{"type", "enabled", "label"};
};

}  // namespace

std::string RecipeStep::type() const {
    if (as<ThresholdStep>()) return "threshold";
    if (const auto* c = as<CategoryStep>()) return c->include ? "include" : "exclude";
    if (as<GeneFilterStep>()) return "genes";
    return "selection";
}

std::string RecipeStep::describe() const {
    std::string text;
    if (const auto* t = as<ThresholdStep>()) {
        if (t->min && t->max)
            text = number_text(*t->min) + " <= " + t->column + " <= " + number_text(*t->max);
        else if (t->min)
            text = t->column + " >= " + number_text(*t->min);
        else if (t->max)
            text = t->column + " <= " + number_text(*t->max);
        else
            text = t->column + " (no bounds)";
    } else if (const auto* c = as<CategoryStep>()) {
        text = std::string(c->include ? "include " : "exclude ") + c->column + ": " +
               list_text(c->values);
    } else if (const auto* g = as<GeneFilterStep>()) {
        std::vector<std::string> parts;
        if (g->min_cells > 0) parts.push_back("in >= " + std::to_string(g->min_cells) + " cells");
        if (!g->keep.empty()) parts.push_back("keep " + std::to_string(g->keep.size()) + " listed");
        if (!g->drop.empty()) parts.push_back("drop " + std::to_string(g->drop.size()) + " listed");
        if (g->drop_mito) parts.push_back("drop mitochondrial");
        if (g->drop_ribo) parts.push_back("drop ribosomal");
        if (g->drop_hb) parts.push_back("drop haemoglobin");
        text = "genes: " + (parts.empty() ? std::string("no filter") : list_text(parts, 10));
    } else if (const auto* s = as<SelectionStep>()) {
        text = std::string(s->keep ? "keep" : "drop") + " selection '" + s->name + "'";
        if (s->cells)
            text += " (" + std::to_string(s->cells->size()) + " cells)";
        else
            text += " (polygon on " + s->embedding + ")";
    }
    if (!enabled) text += " [disabled]";
    return text;
}

json RecipeStep::to_json() const {
    json out = extra.is_object() ? extra : json::object();
    out["type"] = type();
    if (!enabled) out["enabled"] = false;
    if (!label.empty()) out["label"] = label;
    if (const auto* t = as<ThresholdStep>()) {
        out["column"] = t->column;
        if (t->min) out["min"] = *t->min;
        if (t->max) out["max"] = *t->max;
    } else if (const auto* c = as<CategoryStep>()) {
        out["column"] = c->column;
        out["values"] = c->values;
    } else if (const auto* g = as<GeneFilterStep>()) {
        out["min_cells"] = g->min_cells;
        out["keep"] = g->keep;
        out["drop"] = g->drop;
        out["drop_mito"] = g->drop_mito;
        out["drop_ribo"] = g->drop_ribo;
        out["drop_hb"] = g->drop_hb;
    } else if (const auto* s = as<SelectionStep>()) {
        out["name"] = s->name;
        out["embedding"] = s->embedding;
        json polygon = json::array();
        for (const auto& [x, y] : s->polygon) polygon.push_back(json::array({x, y}));
        out["polygon"] = polygon;
        if (s->cells) out["cells"] = *s->cells;
        out["keep"] = s->keep;
    }
    return out;
}

RecipeStep RecipeStep::from_json(const json& object, const std::string& context, size_t index) {
    StepReader reader(object, context, index);
    if (!object.is_object()) reader.fail("a step must be a JSON object");
    const std::string type = reader.string("type", true);
    RecipeStep step;
    step.enabled = reader.boolean("enabled", true);
    step.label = reader.string("label", false);
    if (type == "threshold") {
        ThresholdStep t;
        t.column = reader.string("column", true);
        t.min = reader.number("min");
        t.max = reader.number("max");
        step.payload = t;
    } else if (type == "include" || type == "exclude") {
        CategoryStep c;
        c.column = reader.string("column", true);
        c.values = reader.strings("values", true);
        c.include = type == "include";
        step.payload = c;
    } else if (type == "genes") {
        GeneFilterStep g;
        if (auto min_cells = reader.number("min_cells")) {
            if (*min_cells < 0 ||
                *min_cells != static_cast<double>(static_cast<int64_t>(*min_cells)))
                reader.fail("\"min_cells\" must be a whole number >= 0");
            g.min_cells = static_cast<int64_t>(*min_cells);
        }
        g.keep = reader.strings("keep", false);
        g.drop = reader.strings("drop", false);
        g.drop_mito = reader.boolean("drop_mito", false);
        g.drop_ribo = reader.boolean("drop_ribo", false);
        g.drop_hb = reader.boolean("drop_hb", false);
        step.payload = g;
    } else if (type == "selection") {
        SelectionStep s;
        s.name = reader.string("name", false);
        s.embedding = reader.string("embedding", false);
        if (reader.has("polygon")) {
            const json& polygon = object.at("polygon");
            if (!polygon.is_array()) reader.fail("\"polygon\" must be a list of [x, y] points");
            for (const json& point : polygon) {
                if (!point.is_array() || point.size() != 2 || !point[0].is_number() ||
                    !point[1].is_number())
                    reader.fail("\"polygon\" must be a list of [x, y] points");
                s.polygon.emplace_back(point[0].get<double>(), point[1].get<double>());
            }
        }
        if (reader.has("cells")) s.cells = reader.strings("cells", true);
        s.keep = reader.boolean("keep", true);
        if (!s.cells && s.polygon.empty())
            reader.fail("a selection needs \"cells\" or \"polygon\"");
        step.payload = s;
    } else {
        reader.fail("unknown step type '" + type +
                    "' (threshold, include, exclude, genes or selection)");
    }
    step.extra = reader.extra();
    return step;
}

bool RecipeStep::operator==(const RecipeStep& other) const {
    return payload == other.payload && enabled == other.enabled && label == other.label &&
           extra == other.extra;
}

json Recipe::to_json() const {
    json steps_json = json::array();
    for (const auto& step : steps) steps_json.push_back(step.to_json());
    json out = extra.is_object() ? extra : json::object();
    out["steps"] = steps_json;
    return out;
}

Recipe Recipe::from_json(const json& document, const std::string& context) {
    if (!document.is_object() || !document.contains("steps"))
        throw FormatError(context, "", "a recipe is a JSON object with a \"steps\" list");
    const json& steps = document.at("steps");
    if (!steps.is_array()) throw FormatError(context, "steps", "must be a list");
    Recipe recipe;
    for (auto it = document.begin(); it != document.end(); ++it)
        if (it.key() != "steps") recipe.extra[it.key()] = it.value();
    for (size_t i = 0; i < steps.size(); ++i)
        recipe.steps.push_back(RecipeStep::from_json(steps[i], context, i));
    return recipe;
}

Recipe Recipe::parse(const std::string& text, const std::string& context) {
    json document;
    try {
        document = json::parse(text);
    } catch (const json::parse_error& error) {
        throw FormatError(context, "", std::string("not valid JSON: ") + error.what());
    }
    return from_json(document, context);
}

std::string Recipe::dump() const {
    return to_json().dump(2) + "\n";
}

Recipe Recipe::load(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw IoError(path + ": cannot open recipe");
    std::stringstream text;
    text << in.rdbuf();
    return parse(text.str(), path);
}

void Recipe::save(const std::string& path, bool overwrite) const {
    AtomicOutput output(path, overwrite);
    {
        std::ofstream out(output.temp_path(), std::ios::binary);
        out << dump();
        if (!out.flush()) throw IoError(path + ": cannot write recipe");
    }
    output.commit();
}

}  // namespace transcura
