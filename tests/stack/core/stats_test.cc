// The counters print exactly as /proc/net/snmp does, and sum across shards.

#include <gtest/gtest.h>

#include "stack/core/stats.h"

namespace xnet::stack {
namespace {

TEST(StatsTest, SnmpFormatMatchesTheKernelsLayout) {
  Stats s;
  s.ip.InReceives = 773;
  s.ip.InDelivers = 773;
  s.ip.OutRequests = 693;
  s.ip.OutTransmits = 693;
  s.icmp_in(3);
  s.icmp.InMsgs = 1;
  s.udp.InDatagrams = 20;
  s.udp.OutDatagrams = 21;
  const std::string text = format_snmp(s, /*forwarding=*/true, 64);
  // Header and value lines as a Linux 6.18 machine prints them (same field
  // order, single spaces, IcmpMsg only for types seen).
  const std::string expected =
      "Ip: Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors ForwDatagrams InUnknownProtos "
      "InDiscards InDelivers OutRequests OutDiscards OutNoRoutes ReasmTimeout ReasmReqds ReasmOKs "
      "ReasmFails FragOKs FragFails FragCreates OutTransmits\n"
      "Ip: 1 64 773 0 0 0 0 0 773 693 0 0 0 0 0 0 0 0 0 693\n"
      "Icmp: InMsgs InErrors InCsumErrors InDestUnreachs InTimeExcds InParmProbs InSrcQuenchs "
      "InRedirects InEchos InEchoReps InTimestamps InTimestampReps InAddrMasks InAddrMaskReps OutMsgs "
      "OutErrors OutRateLimitGlobal OutRateLimitHost OutDestUnreachs OutTimeExcds OutParmProbs "
      "OutSrcQuenchs OutRedirects OutEchos OutEchoReps OutTimestamps OutTimestampReps OutAddrMasks "
      "OutAddrMaskReps\n"
      "Icmp: 1 0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
      "IcmpMsg: InType3\n"
      "IcmpMsg: 1\n"
      "Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors "
      "IgnoredMulti MemErrors\n"
      "Udp: 20 0 0 21 0 0 0 0 0\n";
  EXPECT_EQ(text, expected);
}

TEST(StatsTest, IcmpMsgListsInTypesThenOutTypesSixteenPerLine) {
  Stats s;
  s.icmp_out(0);
  s.icmp_in(8);
  std::string text = format_snmp(s, false, 64);
  EXPECT_NE(text.find("IcmpMsg: InType8 OutType0\nIcmpMsg: 1 1\n"), std::string::npos) << text;
  Stats many;
  for (int t = 0; t < 20; ++t) many.icmp_in(static_cast<uint8_t>(t));
  text = format_snmp(many, false, 64);
  size_t lines = 0;
  for (size_t p = text.find("IcmpMsg:"); p != std::string::npos; p = text.find("IcmpMsg:", p + 1)) ++lines;
  EXPECT_EQ(lines, 4u);  // 16 + 4 types: two header/value pairs
}

TEST(StatsTest, ShardsSumFieldByField) {
  Stats a, b;
  a.ip.InReceives = 2;
  b.ip.InReceives = 3;
  a.udp.NoPorts = 1;
  b.icmp_out(3);
  b.drop(DropReason::kOtherHost);
  a += b;
  EXPECT_EQ(a.ip.InReceives, 5u);
  EXPECT_EQ(a.udp.NoPorts, 1u);
  EXPECT_EQ(a.icmp.OutDestUnreachs, 1u);
  EXPECT_EQ(a.icmp.OutType[3], 1u);
  EXPECT_EQ(a.dropped(DropReason::kOtherHost), 1u);
}

TEST(StatsTest, EveryDropReasonHasAName) {
  Stats s;
  const std::string text = format_drops(s);
  for (size_t i = 0; i < static_cast<size_t>(DropReason::kCount); ++i) {
    const auto name = drop_reason_name(static_cast<DropReason>(i));
    EXPECT_FALSE(name.empty());
    EXPECT_NE(text.find(std::string(name)), std::string::npos);
  }
}

}  // namespace
}  // namespace xnet::stack
