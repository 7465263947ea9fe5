// ICMP timestamp requests (type 13) and messages of unknown types, against
// what Linux 6.18 answered and counted for the same messages (issue 15, items
// 5 and 11; the numbers are in the commit message).
#include "stack/ipv4/icmp_timestamp.h"
#include "tests/stack/udp/fixture.h"

namespace xnet::stack::udptest {
namespace {

using std::chrono::system_clock;

// 2026-12-04 09:03:30.123 UTC.
const system_clock::time_point kWall = system_clock::time_point(std::chrono::seconds(1796375010)) +
                                       std::chrono::milliseconds(123);
constexpr uint32_t kWallMs = ((9 * 60 + 3) * 60 + 30) * 1000 + 123;

std::vector<std::byte> times(uint32_t originate, uint32_t receive, uint32_t transmit) {
  std::vector<std::byte> b(12);
  store_be32(&b[0], originate);
  store_be32(&b[4], receive);
  store_be32(&b[8], transmit);
  return b;
}

class IcmpTimestamp : public StackTest {
 protected:
  void SetUp() override {
    StackTest::SetUp();
    stack_->icmp().set_wall_clock(now_, kWall);
  }
  // The ICMP part of captured reply i, after checking its IPv4 header.
  std::vector<std::byte> reply(size_t i, uint8_t tos = 0) {
    const auto o = out_bytes(i);
    EXPECT_EQ(o.size(), 40u);
    if (o.size() < 40) return {};
    EXPECT_EQ(wire::checksum({o.data(), 20}), 0);
    EXPECT_EQ(load_be16(&o[2]), 40);
    EXPECT_EQ(std::to_integer<uint8_t>(o[1]), tos);  // the request's TOS
    EXPECT_EQ(load_be16(&o[6]), 0);                  // no DF, not a fragment
    EXPECT_EQ(std::to_integer<uint8_t>(o[8]), 64);
    EXPECT_EQ(std::to_integer<uint8_t>(o[9]), 1);
    EXPECT_EQ(Ipv4Addr(load_be32(&o[12])), kUs);
    EXPECT_EQ(Ipv4Addr(load_be32(&o[16])), kPeer);
    std::vector<std::byte> icmp(o.begin() + 20, o.end());
    EXPECT_EQ(wire::checksum(icmp), 0);
    return icmp;
  }
};

TEST(MsSinceMidnight, UtcDayWraps) {
  EXPECT_EQ(ms_since_midnight_utc(kWall), kWallMs);
  EXPECT_EQ(ms_since_midnight_utc(system_clock::time_point{}), 0u);
  const auto midnight = system_clock::time_point(std::chrono::seconds(1796342400));  // 2026-12-04 00:00
  EXPECT_EQ(ms_since_midnight_utc(midnight), 0u);
  EXPECT_EQ(ms_since_midnight_utc(midnight - std::chrono::milliseconds(1)), 86399999u);
  EXPECT_EQ(ms_since_midnight_utc(midnight + std::chrono::microseconds(1999)), 1u);
  EXPECT_EQ(ms_since_midnight_utc(system_clock::time_point{} - std::chrono::milliseconds(1)), 86399999u);
}

TEST_F(IcmpTimestamp, ReplyByteExactAndCountedAsTheKernelCountsIt) {
  // Request code 5 and nonzero receive/transmit times: the reply has code 0,
  // identifier/sequence and originate copied, receive = transmit = now.
  icmp_in(icmp_bytes({.tos = 0x28}, 13, 5, 0x12340001, times(0x11223344, 0xaaaaaaaa, 0xbbbbbbbb)));
  ASSERT_EQ(out_.size(), 1u);
  const auto r = reply(0, 0x28);
  ASSERT_EQ(r.size(), 20u);
  std::vector<std::byte> expect{std::byte{14}, std::byte{0}, std::byte{0}, std::byte{0}};
  expect.resize(8);
  store_be32(&expect[4], 0x12340001);
  const auto t = times(0x11223344, kWallMs, kWallMs);
  expect.insert(expect.end(), t.begin(), t.end());
  store_be16(&expect[2], wire::checksum(expect));
  EXPECT_EQ(r, expect);

  const IcmpStats& s = st().icmp;
  EXPECT_EQ(s.InMsgs, 1u);
  EXPECT_EQ(s.InTimestamps, 1u);
  EXPECT_EQ(s.InType[13], 1u);
  EXPECT_EQ(s.InErrors, 0u);
  EXPECT_EQ(s.OutMsgs, 1u);
  // Linux 6.18 counts its timestamp reply under type 0 (icmp_timestamp.cc).
  EXPECT_EQ(s.OutType[0], 1u);
  EXPECT_EQ(s.OutEchoReps, 1u);
  EXPECT_EQ(s.OutType[14], 0u);
  EXPECT_EQ(s.OutTimestampReps, 0u);
  EXPECT_EQ(s.OutErrors, 0u);
  // Snmp text as the kernel printed it for the same exchange.
  const std::string snmp = format_snmp(st(), false, 64);
  EXPECT_NE(snmp.find("IcmpMsg: InType13 OutType0\nIcmpMsg: 1 1\n"), std::string::npos) << snmp;
}

TEST_F(IcmpTimestamp, TimesFollowTheClock) {
  icmp_in(icmp_bytes({}, 13, 0, 1, times(7, 0, 0)));
  now_ += std::chrono::milliseconds(1500);
  icmp_in(icmp_bytes({}, 13, 0, 2, times(8, 0, 0)));
  // A wall clock set again (the system clock was stepped) is followed.
  stack_->icmp().set_wall_clock(now_, kWall - std::chrono::hours(9));
  icmp_in(icmp_bytes({}, 13, 0, 3, times(9, 0, 0)));
  ASSERT_EQ(out_.size(), 3u);
  const uint32_t want[] = {kWallMs, kWallMs + 1500, kWallMs - 9 * 3600 * 1000};
  for (size_t i = 0; i < 3; ++i) {
    const auto r = reply(i);
    ASSERT_EQ(r.size(), 20u);
    EXPECT_EQ(load_be32(&r[8]), 7 + i);
    EXPECT_EQ(load_be32(&r[12]), want[i]) << i;
    EXPECT_EQ(load_be32(&r[16]), want[i]) << i;
  }
}

TEST_F(IcmpTimestamp, ReplyIsTwentyBytesWhateverTheRequestLength) {
  // 12 bytes (originate only) and 40 bytes both get the 20-byte reply.
  icmp_in(icmp_bytes({}, 13, 0, 0x12340002, {std::byte{0x11}, std::byte{0x22}, std::byte{0x33}, std::byte{0x44}}));
  auto longer = times(0x55667788, 1, 2);
  const auto tail = pattern(20);
  longer.insert(longer.end(), tail.begin(), tail.end());
  icmp_in(icmp_bytes({}, 13, 0, 0x12340005, longer));
  ASSERT_EQ(out_.size(), 2u);
  const auto a = reply(0);
  const auto b = reply(1);
  ASSERT_EQ(a.size(), 20u);
  ASSERT_EQ(b.size(), 20u);
  EXPECT_EQ(load_be32(&a[4]), 0x12340002u);
  EXPECT_EQ(load_be32(&a[8]), 0x11223344u);
  EXPECT_EQ(load_be32(&a[12]), kWallMs);
  EXPECT_EQ(load_be32(&b[4]), 0x12340005u);
  EXPECT_EQ(load_be32(&b[8]), 0x55667788u);
  EXPECT_EQ(st().icmp.InErrors, 0u);
  EXPECT_EQ(st().icmp.OutMsgs, 2u);
}

TEST_F(IcmpTimestamp, TooShortIsAnErrorAndUnanswered) {
  // 11 and 8 bytes: Linux 6.18 moved InMsgs, InTimestamps/InType13 and
  // InErrors for each, and sent nothing.
  icmp_in(icmp_bytes({}, 13, 0, 3, {std::byte{0x11}, std::byte{0x22}, std::byte{0x33}}));
  icmp_in(icmp_bytes({}, 13, 0, 4, {}));
  EXPECT_TRUE(out_.empty());
  const IcmpStats& s = st().icmp;
  EXPECT_EQ(s.InMsgs, 2u);
  EXPECT_EQ(s.InTimestamps, 2u);
  EXPECT_EQ(s.InType[13], 2u);
  EXPECT_EQ(s.InErrors, 2u);
  EXPECT_EQ(s.OutMsgs, 0u);
  EXPECT_EQ(st().dropped(DropReason::kIcmpBadType), 2u);
}

TEST_F(IcmpTimestamp, OriginateSplitAcrossReassembledFrames) {
  const auto req = icmp_bytes({}, 13, 0, 0x00010001, times(0xa1b2c3d4, 0, 0));
  // The first frame ends two bytes into the originate time.
  Packet head = rx({req.begin(), req.begin() + 30});
  PacketQueue rest;
  Packet f = Packet::allocate(link_.pool_, kDefaultHeadroom + 34);
  std::memcpy(f.put(static_cast<uint16_t>(req.size() - 30)), req.data() + 30, req.size() - 30);
  rest.push_back(std::move(f));
  icmp_rcv(*stack_, std::move(head), std::move(rest), now_);
  ASSERT_EQ(out_.size(), 1u);
  const auto r = reply(0);
  ASSERT_EQ(r.size(), 20u);
  EXPECT_EQ(load_be32(&r[8]), 0xa1b2c3d4u);
}

TEST_F(IcmpTimestamp, ToBroadcastIgnored) {
  icmp_in(icmp_bytes({.dst = kIpv4Broadcast}, 13, 0, 1, times(1, 0, 0)), RouteType::kBroadcast);
  EXPECT_TRUE(out_.empty());
  EXPECT_EQ(st().icmp.InErrors, 1u);
  EXPECT_EQ(st().dropped(DropReason::kIcmpBroadcastEcho), 1u);
}

TEST_F(IcmpTimestamp, UnknownTypesAsTheKernelCountsThem) {
  // Linux 6.18, one message of each type: 42 and 43 (RFC 8335 PROBE, taken
  // before the unknown-type test) and unassigned types up to 18 move InMsgs
  // and InTypeN only; types above 18 also move InErrors.
  struct Case {
    uint8_t type;
    bool error;
  };
  for (const Case c : {Case{42, false}, Case{43, false}, Case{1, false}, Case{2, false}, Case{7, false},
                       Case{15, false}, Case{16, false}, Case{19, true}, Case{30, true}, Case{255, true}}) {
    const uint64_t in_msgs = st().icmp.InMsgs;
    const uint64_t in_errors = st().icmp.InErrors;
    icmp_in(icmp_bytes({}, c.type, 0, 0x12340001, pattern(8)));
    EXPECT_EQ(st().icmp.InMsgs, in_msgs + 1) << int{c.type};
    EXPECT_EQ(st().icmp.InType[c.type], 1u) << int{c.type};
    EXPECT_EQ(st().icmp.InErrors, in_errors + (c.error ? 1 : 0)) << int{c.type};
  }
  EXPECT_TRUE(out_.empty());
  EXPECT_EQ(st().icmp.OutMsgs, 0u);
}

}  // namespace
}  // namespace xnet::stack::udptest
