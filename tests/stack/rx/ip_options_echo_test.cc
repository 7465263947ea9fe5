// Record Route and Timestamp options on what is delivered here and in what
// ICMP answers, against Linux 6.18 (a namespace answering `ping -R`, `ping -T
// tsonly|tsandaddr` and UDP to a closed port sent with IP_OPTIONS): the
// receiver records itself when the datagram arrives and again in its reply,
// so the sender sees it twice; an error quotes the header as arrival left it
// (our entry in, the checksum not updated).

#include <gtest/gtest.h>

#include "stack/ipv4/icmp_state.h"
#include "stack/ipv4/ip_options.h"
#include "tests/stack/rx/rx_fixture.h"

namespace xnet::stack::rxtest {
namespace {

using std::chrono::system_clock;

// 2026-12-04 09:03:30.123 UTC.
const system_clock::time_point kWall = system_clock::time_point(std::chrono::seconds(1796375010)) +
                                       std::chrono::milliseconds(123);
constexpr uint32_t kWallMs = ((9 * 60 + 3) * 60 + 30) * 1000 + 123;

Bytes be32(uint32_t v) {
  return {std::byte(v >> 24), std::byte(v >> 16), std::byte(v >> 8), std::byte(v)};
}
Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
Bytes zeros(size_t n) { return Bytes(n, std::byte{0}); }
Bytes addr(Ipv4Addr a) { return be32(a.value()); }

// An echo request (id 1, sequence 1, 8 bytes of data) with its checksum.
Bytes echo_request() {
  Bytes b = bytes({8, 0, 0, 0, 0, 1, 0, 1, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'});
  const uint16_t c = ref_checksum(b.data(), b.size());
  b[2] = std::byte(c >> 8);
  b[3] = std::byte(c);
  return b;
}

class OptionsEcho : public RxTest {
 protected:
  void SetUp() override {
    RxTest::SetUp();
    stack_->icmp().set_wall_clock(now_, kWall);
  }
  void send(uint8_t protocol, const Bytes& options, const Bytes& payload) {
    Ip ip;
    ip.protocol = protocol;
    ip.src = kPeer;
    ip.options = options;
    ip.payload = payload;
    inject(ip);
  }
};

TEST_F(OptionsEcho, EchoReplyRecordsUsTwice) {
  // ping -R: the sender's own entry already in, room for eight more.
  send(1, cat({bytes({7, 39, 8}), addr(kPeer), zeros(32), bytes({0})}), echo_request());
  ASSERT_EQ(icmp_.size(), 1u);
  EXPECT_EQ(icmp_[0].icmp_type(), 0);
  EXPECT_EQ(icmp_[0].options(),
            cat({bytes({7, 39, 16}), addr(kPeer), addr(kUs), addr(kUs), zeros(24), bytes({0})}));
}

TEST_F(OptionsEcho, PortUnreachableEchoesAndQuotesTheProcessedHeader) {
  const Bytes udp = bytes({0x30, 0x39, 0, 9, 0, 13, 0, 0, 'h', 'e', 'l', 'l', 'o'});
  // IP_OPTIONS as a UDP socket set it, with the entry the sender's output made.
  send(17, cat({bytes({7, 39, 8}), addr(kPeer), zeros(32), bytes({0})}), udp);
  ASSERT_EQ(icmp_.size(), 1u);
  EXPECT_EQ(icmp_[0].icmp_type(), 3);
  EXPECT_EQ(icmp_[0].icmp_code(), 3);
  EXPECT_EQ(icmp_[0].options(),
            cat({bytes({7, 39, 16}), addr(kPeer), addr(kUs), addr(kUs), zeros(24), bytes({0})}));
  const Bytes q = icmp_[0].quote();
  ASSERT_GE(q.size(), 60u);
  EXPECT_EQ(std::to_integer<int>(q[0]), 0x4f);
  EXPECT_EQ(Bytes(q.begin() + 20, q.begin() + 60),
            cat({bytes({7, 39, 12}), addr(kPeer), addr(kUs), zeros(28), bytes({0})}));
  EXPECT_NE(ref_checksum(q.data(), 60), 0) << "the kernel leaves the arrived header's checksum stale";
}

TEST_F(OptionsEcho, TimestampsOnlyTakeTheArrivalAndTheReply) {
  const Bytes ts = cat({bytes({68, 40, 9, 0}), be32(1234), zeros(32)});
  send(1, ts, echo_request());
  ASSERT_EQ(icmp_.size(), 1u);
  EXPECT_EQ(icmp_[0].options(), cat({bytes({68, 40, 17, 0}), be32(1234), be32(kWallMs), be32(kWallMs), zeros(24)}));
}

TEST_F(OptionsEcho, TimestampsWithAddressesTakeOurAddressEachTime) {
  const Bytes ts = cat({bytes({68, 36, 13, 1}), addr(kPeer), be32(1234), zeros(24)});
  send(1, ts, echo_request());
  ASSERT_EQ(icmp_.size(), 1u);
  EXPECT_EQ(icmp_[0].options(), cat({bytes({68, 36, 29, 1}), addr(kPeer), be32(1234), addr(kUs), be32(kWallMs),
                                     addr(kUs), be32(kWallMs), zeros(8)}));
}

// Prespecified: our slot is stamped on arrival; the next names another host,
// so the reply leaves it alone.
TEST_F(OptionsEcho, PrespecifiedTimestampsOnlyInOurSlot) {
  const Bytes ts = cat({bytes({68, 20, 5, 3}), addr(kUs), zeros(4), addr(Ipv4Addr(10, 0, 0, 9)), zeros(4)});
  send(1, ts, echo_request());
  ASSERT_EQ(icmp_.size(), 1u);
  EXPECT_EQ(icmp_[0].options(),
            cat({bytes({68, 20, 13, 3}), addr(kUs), be32(kWallMs), addr(Ipv4Addr(10, 0, 0, 9)), zeros(4)}));
}

// A full Timestamp counts its overflow on arrival; a full Record Route is
// echoed as it is.
TEST_F(OptionsEcho, FullOptionsAreEchoedAsTheyAre) {
  const Bytes rr = cat({bytes({7, 7, 8}), addr(kPeer), bytes({0})});
  send(1, rr, echo_request());
  ASSERT_EQ(icmp_.size(), 1u);
  EXPECT_EQ(icmp_[0].options(), cat({bytes({7, 7, 8}), addr(kPeer), bytes({0})}));
  icmp_.clear();
  const Bytes ts = cat({bytes({68, 8, 9, 0x10}), be32(1)});
  send(1, ts, echo_request());
  ASSERT_EQ(icmp_.size(), 1u);
  EXPECT_EQ(icmp_[0].options(), cat({bytes({68, 8, 9, 0x20}), be32(1)}));
}

// A forwarded datagram: recorded on arrival with the address we would answer
// its sender from, then (ip_forward_options) with the address it leaves by,
// and the header checksum made right again by the caller.
TEST_F(OptionsEcho, ForwardedEntriesNameTheWayOut) {
  Bytes ip = build([] {
    Ip i;
    i.src = Ipv4Addr(10, 0, 0, 2);
    i.dst = Ipv4Addr(192, 168, 7, 7);
    i.options = cat({bytes({7, 11, 4}), zeros(8), bytes({1}), bytes({68, 12, 5, 1}), zeros(8)});  // NOP between
    return i;
  }());
  IpOptions opt;
  ASSERT_TRUE(ip_options_compile({ip.data(), 44}, opt).ok());
  const uint8_t recorded = ip_options_record(*stack_, {ip.data(), 44}, opt, kUs, kWallMs);
  EXPECT_EQ(recorded, kRecordedRouteAddr | kRecordedTimestampAddr | kRecordedChanged);
  const Ipv4Addr out(192, 168, 0, 1);
  ip_forward_options({ip.data(), 44}, opt, recorded, out);
  EXPECT_EQ(Bytes(ip.begin() + 20, ip.begin() + 44),
            cat({bytes({7, 11, 8}), addr(out), zeros(4), bytes({1}), bytes({68, 12, 13, 1}), addr(out),
                 be32(kWallMs)}));
}

}  // namespace
}  // namespace xnet::stack::rxtest
