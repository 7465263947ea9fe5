#include "tools/stats_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <sstream>

namespace xnet::tools {
namespace {

std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::optional<long long> number(const std::string& s) {
  long long v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// Values that are states, not counts: a delta of them means nothing.
bool is_gauge(const std::string& group, const std::string& name) {
  if (group == "Ip") return name == "Forwarding" || name == "DefaultTTL";
  if (group == "Queue") return name != "rx" && name != "tx" && name.find("dropped") == std::string::npos &&
                               name.find("_full") == std::string::npos && name.find("_empty") == std::string::npos &&
                               name != "tx_invalid";
  return false;
}

// A queue row's name in deltas: its queue number when the table has one.
long long queue_id(const StatsReport& r, size_t row) {
  const auto it = std::find(r.queue_columns.begin(), r.queue_columns.end(), "queue");
  return it == r.queue_columns.end() ? static_cast<long long>(row) : r.queues[row][static_cast<size_t>(it - r.queue_columns.begin())];
}

}  // namespace

std::optional<StatsReport> parse_stats(const std::string& text, std::string* error) {
  StatsReport r;
  std::istringstream in(text);
  std::string names_line;
  int n = 0;
  auto bad = [&](const std::string& why) -> std::optional<StatsReport> {
    *error = fmt::format("line {}: {}", n, why);
    return std::nullopt;
  };
  while (std::getline(in, names_line)) {
    ++n;
    const auto names = words(names_line);
    if (names.empty()) continue;
    const std::string& tag = names[0];
    if (tag.size() < 2 || tag.back() != ':') return bad("no \"Group:\" at the start");
    const std::string group = tag.substr(0, tag.size() - 1);
    if (group == "Queue") {
      if (r.queue_columns.empty()) {
        r.queue_columns.assign(names.begin() + 1, names.end());
        continue;
      }
      std::vector<long long> row;
      for (size_t i = 1; i < names.size(); ++i) {
        const auto v = number(names[i]);
        if (!v) return bad("a queue figure is not a number");
        row.push_back(*v);
      }
      if (row.size() != r.queue_columns.size()) return bad("a queue row does not match its header");
      r.queues.push_back(std::move(row));
      continue;
    }
    std::string values_line;
    if (!std::getline(in, values_line)) return bad("a header line without its values");
    ++n;
    const auto values = words(values_line);
    if (values.size() != names.size() || values[0] != tag) return bad("values do not match the header");
    StatsReport::Counters c;
    for (size_t i = 1; i < names.size(); ++i) {
      const auto v = number(values[i]);
      if (!v) return bad(fmt::format("{} is not a number", values[i]));
      c.emplace_back(names[i], *v);
    }
    r.groups.emplace_back(group, std::move(c));
  }
  if (r.groups.empty()) return bad("no counters");
  return r;
}

std::string stats_json(const StatsReport& r) {
  // Names are identifiers (letters, digits, '_'): nothing to escape.
  std::string j = "{";
  for (size_t g = 0; g < r.groups.size(); ++g) {
    const auto& [group, counters] = r.groups[g];
    j += fmt::format("{}\n  \"{}\": {{", g == 0 ? "" : ",", group);
    for (size_t i = 0; i < counters.size(); ++i) {
      j += fmt::format("{}\"{}\": {}", i == 0 ? "" : ", ", counters[i].first, counters[i].second);
    }
    j += "}";
  }
  j += ",\n  \"queues\": [";
  for (size_t q = 0; q < r.queues.size(); ++q) {
    j += q == 0 ? "\n    {" : ",\n    {";
    for (size_t i = 0; i < r.queue_columns.size(); ++i) {
      j += fmt::format("{}\"{}\": {}", i == 0 ? "" : ", ", r.queue_columns[i], r.queues[q][i]);
    }
    j += "}";
  }
  j += r.queues.empty() ? "]\n}\n" : "\n  ]\n}\n";
  return j;
}

std::string stats_deltas(const StatsReport& before, const StatsReport& after) {
  std::map<std::string, long long> old;
  for (const auto& [group, counters] : before.groups) {
    for (const auto& [name, v] : counters) old[group + "." + name] = v;
  }
  for (size_t q = 0; q < before.queues.size(); ++q) {
    for (size_t i = 0; i < before.queue_columns.size(); ++i) {
      old[fmt::format("Queue{}.{}", queue_id(before, q), before.queue_columns[i])] = before.queues[q][i];
    }
  }
  std::string out;
  auto line = [&](const std::string& group, const std::string& key, const std::string& name, long long v) {
    if (is_gauge(group, name)) return;
    const auto it = old.find(key);
    const long long d = v - (it == old.end() ? 0 : it->second);
    if (d != 0) out += fmt::format("{:<32} {:>12} {:>14}\n", key, d, v);
  };
  for (const auto& [group, counters] : after.groups) {
    for (const auto& [name, v] : counters) line(group, group + "." + name, name, v);
  }
  for (size_t q = 0; q < after.queues.size(); ++q) {
    for (size_t i = 0; i < after.queue_columns.size(); ++i) {
      line("Queue", fmt::format("Queue{}.{}", queue_id(after, q), after.queue_columns[i]), after.queue_columns[i],
           after.queues[q][i]);
    }
  }
  return out.empty() ? "(no change)\n" : out;
}

}  // namespace xnet::tools
