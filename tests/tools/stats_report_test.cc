// `xnet stats` replies: parsed from exactly what ServiceHost sends (the
// stack's formatters), as JSON, and as per-interval deltas.

#include "tools/stats_report.h"

#include <gtest/gtest.h>

#include "stack/core/stats.h"

namespace xnet::tools {
namespace {

std::string reply(const stack::Stats& s, long long rx) {
  return stack::format_snmp(s, false, 64) + stack::format_netstat(s) + stack::format_drops(s) +
         "Queue: queue rx tx fill completion free stack rx_dropped rx_ring_full rx_fill_empty tx_invalid "
         "tx_ring_empty in_flight\n" +
         "Queue: 0 " + std::to_string(rx) + " 7 100 0 50 2 0 0 0 0 0 3\n";
}

long long counter(const StatsReport& r, const std::string& group, const std::string& name) {
  for (const auto& [g, c] : r.groups) {
    if (g != group) continue;
    for (const auto& [n, v] : c) {
      if (n == name) return v;
    }
  }
  return -1;
}

TEST(StatsReport, ParsesEveryGroupAndTheQueueTable) {
  stack::Stats s;
  s.udp.InDatagrams = 12;
  s.ip_ext.InOctets = 3400;
  s.drop(stack::DropReason::kOtherHost);
  std::string error;
  auto r = parse_stats(reply(s, 40), &error);
  ASSERT_TRUE(r) << error;
  EXPECT_EQ(counter(*r, "Udp", "InDatagrams"), 12);
  EXPECT_EQ(counter(*r, "Ip", "DefaultTTL"), 64);
  EXPECT_EQ(counter(*r, "IpExt", "InOctets"), 3400);
  EXPECT_EQ(r->groups.size(), 5u);  // Ip Icmp Udp IpExt XnetDrops (IcmpMsg: only once a type was seen)
  ASSERT_EQ(r->queues.size(), 1u);
  EXPECT_EQ(r->queue_columns.front(), "queue");
  EXPECT_EQ(r->queues[0][1], 40);
}

TEST(StatsReport, RefusesWhatIsNotAStatsReply) {
  std::string error;
  EXPECT_FALSE(parse_stats("", &error));
  EXPECT_FALSE(parse_stats("Udp: InDatagrams NoPorts\n", &error));  // no values line
  EXPECT_NE(error.find("line 1"), std::string::npos) << error;
  EXPECT_FALSE(parse_stats("Udp: InDatagrams NoPorts\nUdp: 1 x\n", &error));
  EXPECT_FALSE(parse_stats("Udp: InDatagrams\nIp: 1\n", &error));  // values of another group
  EXPECT_FALSE(parse_stats("hello\n", &error));
}

TEST(StatsReport, JsonHasEveryCounterAndQueue) {
  stack::Stats s;
  s.udp.OutDatagrams = 5;
  std::string error;
  auto r = parse_stats(reply(s, 9), &error);
  ASSERT_TRUE(r) << error;
  const std::string j = stats_json(*r);
  EXPECT_EQ(j.front(), '{');
  EXPECT_NE(j.find("\"Udp\": {\"InDatagrams\": 0, \"NoPorts\": 0"), std::string::npos) << j;
  EXPECT_NE(j.find("\"OutDatagrams\": 5"), std::string::npos) << j;
  EXPECT_NE(j.find("\"XnetDrops\": {"), std::string::npos) << j;
  EXPECT_NE(j.find("\"queues\": [\n    {\"queue\": 0, \"rx\": 9, \"tx\": 7"), std::string::npos) << j;
  // Balanced braces and brackets, no trailing commas.
  int depth = 0;
  for (char c : j) {
    if (c == '{' || c == '[') ++depth;
    if (c == '}' || c == ']') --depth;
    ASSERT_GE(depth, 0);
  }
  EXPECT_EQ(depth, 0);
  EXPECT_EQ(j.find(",}"), std::string::npos);
  EXPECT_EQ(j.find(", }"), std::string::npos);
}

TEST(StatsReport, DeltasShowWhatMovedAndNoGauges) {
  stack::Stats a, b;
  b.udp.InDatagrams = 30;
  b.ip.InReceives = 31;
  b.drop(stack::DropReason::kOtherHost);
  std::string error;
  auto before = parse_stats(reply(a, 100), &error);
  auto after = parse_stats(reply(b, 131), &error);
  ASSERT_TRUE(before && after) << error;
  const std::string d = stats_deltas(*before, *after);
  EXPECT_NE(d.find("Udp.InDatagrams"), std::string::npos) << d;
  EXPECT_NE(d.find("Ip.InReceives"), std::string::npos) << d;
  EXPECT_NE(d.find("XnetDrops."), std::string::npos) << d;
  EXPECT_NE(d.find("Queue0.rx"), std::string::npos) << d;
  EXPECT_EQ(d.find("Queue0.fill"), std::string::npos) << d;  // ring occupancy: a gauge
  EXPECT_EQ(d.find("DefaultTTL"), std::string::npos) << d;
  EXPECT_EQ(d.find("Udp.OutDatagrams"), std::string::npos) << d;  // did not move
  EXPECT_EQ(stats_deltas(*after, *after), "(no change)\n");
}

}  // namespace
}  // namespace xnet::tools
