#pragma once
// What `xnet stats` reads from a running xnet process, parsed: counter groups
// in /proc/net/snmp layout (a "Group: names" line, then a "Group: values"
// line: Ip, Icmp, IcmpMsg, Udp, IpExt, XnetDrops) and the Queue table (a
// header row, then one row per AF_XDP queue). Printed as JSON for tools, or
// as the counters that moved between two readings (`--watch`, like nstat).

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace xnet::tools {

struct StatsReport {
  using Counters = std::vector<std::pair<std::string, long long>>;
  std::vector<std::pair<std::string, Counters>> groups;  // in the reply's order
  std::vector<std::string> queue_columns;                 // "queue", "rx", ...
  std::vector<std::vector<long long>> queues;             // one row per queue
};

// nullopt, with `error` naming the line, when the text is not a stats reply.
std::optional<StatsReport> parse_stats(const std::string& text, std::string* error);

// {"Ip": {"InReceives": 1, ...}, ..., "queues": [{"queue": 0, "rx": 5, ...}]}
std::string stats_json(const StatsReport& r);

// One "Group.Name  delta  total" line per counter that moved from `before` to
// `after` (gauges such as Ip.DefaultTTL or a queue's ring occupancy left out);
// "(no change)" when nothing did.
std::string stats_deltas(const StatsReport& before, const StatsReport& after);

}  // namespace xnet::tools
