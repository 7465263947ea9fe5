// The socket API misused (issue 16, "API misuse"): every call with bad
// arguments or in a bad state returns an errno or a documented result, never
// aborts, loses or corrupts. One test per case; the fixture checks after each
// that every frame went back to its pool. (Cancelling a waiting receive:
// socket_test's CancelledRecvRacingWithArrivalLosesNothing; closing while a
// receive waits and destroying the driver with sockets open: lifetime_test.)

#include <array>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "stack/api/udp_socket.h"
#include "tests/api/fixture.h"

namespace xnet::apitest {
namespace {

constexpr uint16_t kPort = 7200;

// Every call of a socket that is not open: closed, or moved from.
void expect_every_call_fails(UdpSocket& s, rt::Reactor& reactor, std::errc e) {
  std::array<std::byte, 16> buf{};
  const auto data = bytes("x");
  std::array<OutDatagram, 1> out{};
  out[0].payload = data;
  std::array<Datagram, 2> in;
  EXPECT_FALSE(s.is_open());
  EXPECT_EQ(s.bind({Ipv4Addr(), kPort}).error(), e);
  EXPECT_EQ(s.connect({kB, kPort}).error(), e);
  EXPECT_EQ(s.disconnect().error(), e);
  EXPECT_EQ(s.local_endpoint().error(), e);
  EXPECT_EQ(s.remote_endpoint().error(), e);
  EXPECT_EQ(s.try_send_to({kB, kPort}, data).error(), e);
  EXPECT_EQ(s.try_send(data).error(), e);
  EXPECT_EQ(s.try_send_batch(out).error(), e);
  EXPECT_EQ(reactor.block_on(s.send_to({kB, kPort}, data)).error(), e);
  EXPECT_EQ(reactor.block_on(s.send(data)).error(), e);
  EXPECT_EQ(reactor.block_on(s.send_batch(out)).error(), e);
  EXPECT_EQ(s.try_recv_from(buf).error(), e);
  EXPECT_EQ(s.try_recv().error(), e);
  EXPECT_EQ(s.try_recv_batch(in).error(), e);
  EXPECT_EQ(s.try_recv_error().error(), e);
  EXPECT_EQ(reactor.block_on(s.recv_from(buf)).error(), e);
  EXPECT_EQ(reactor.block_on(s.recv()).error(), e);
  EXPECT_EQ(reactor.block_on(s.recv_batch(in)).error(), e);
  EXPECT_EQ(reactor.block_on(s.recv_error()).error(), e);
  EXPECT_EQ(s.set_nonblocking(true).error(), e);
  EXPECT_EQ(s.set_ttl(5).error(), e);
  EXPECT_EQ(s.set_tos(5).error(), e);
  EXPECT_EQ(s.set_broadcast(true).error(), e);
  EXPECT_EQ(s.set_recv_buffer(4096).error(), e);
  EXPECT_EQ(s.set_send_buffer(4096).error(), e);
  EXPECT_EQ(s.set_reuse_address(true).error(), e);
  EXPECT_EQ(s.set_reuse_port(true).error(), e);
  EXPECT_EQ(s.set_no_check(true).error(), e);
  EXPECT_EQ(s.set_dont_route(true).error(), e);
  EXPECT_EQ(s.set_pmtu_discovery(PmtuDisc::kDo).error(), e);
  EXPECT_EQ(s.mtu().error(), e);
  EXPECT_EQ(s.set_gso_size(1000).error(), e);
  EXPECT_EQ(s.set_cork(true).error(), e);
  EXPECT_EQ(s.set_multicast_ttl(2).error(), e);
  EXPECT_EQ(s.set_multicast_if(kA).error(), e);
  EXPECT_EQ(s.set_recv_errors(true).error(), e);
  EXPECT_EQ(s.bind_to_interface(1).error(), e);
  EXPECT_EQ(s.join_group(Ipv4Addr(239, 1, 1, 1), {}, 1).error(), e);
  EXPECT_EQ(s.leave_group(Ipv4Addr(239, 1, 1, 1), {}, 1).error(), e);
  EXPECT_EQ(s.queued(), 0u);
  EXPECT_EQ(s.raw(), nullptr);
  s.close();  // again: nothing happens
}

TEST_F(ApiTest, EveryCallOnAClosedSocketIsEbadf) {
  UdpSocket s = open_a();
  ASSERT_TRUE(s.bind({Ipv4Addr(), kPort}).ok());
  s.close();
  expect_every_call_fails(s, *reactor_, std::errc::bad_file_descriptor);
}

TEST_F(ApiTest, EveryCallOnAMovedFromSocketIsEbadf) {
  UdpSocket s = open_a();
  UdpSocket t = std::move(s);
  expect_every_call_fails(s, *reactor_, std::errc::bad_file_descriptor);  // NOLINT(bugprone-use-after-move)
  EXPECT_TRUE(t.is_open());
}

TEST_F(ApiTest, EveryCallAfterTheDriverStoppedIsEnetdown) {
  UdpSocket s = open_a();
  ASSERT_TRUE(s.set_cork(true).ok());
  ASSERT_TRUE(s.try_send_to({kB, kPort}, bytes("pending in the cork")).ok());
  SendOptions more;
  more.more = true;
  UdpSocket m = open_a();
  ASSERT_TRUE(m.try_send_to({kB, kPort}, bytes("pending with MSG_MORE"), more).ok());
  da_.reset();  // the frames of both pending datagrams go back (TearDown checks)
  drain(2);
  expect_every_call_fails(s, *reactor_, std::errc::network_down);
  expect_every_call_fails(m, *reactor_, std::errc::network_down);
}

TEST_F(ApiTest, ZeroSizedAndOversizedBuffers) {
  UdpSocket server = open_b();
  ASSERT_TRUE(server.bind({Ipv4Addr(), kPort}).ok());
  UdpSocket client = open_a();
  // An empty datagram is a datagram.
  EXPECT_EQ(client.try_send_to({kB, kPort}, std::span<const std::byte>()).value(), 0u);
  // One byte over the largest UDP payload.
  std::vector<std::byte> big(65508, std::byte{1});
  EXPECT_EQ(client.try_send_to({kB, kPort}, big).error(), std::errc::message_size);
  big.resize(65507);
  ASSERT_TRUE(client.set_send_buffer(1 << 20).ok());
  EXPECT_EQ(client.try_send_to({kB, kPort}, big).value(), 65507u);
  drain(50);
  // A zero-sized buffer: the datagram is consumed, reported truncated (MSG_TRUNC).
  std::span<std::byte> none;
  auto r = server.try_recv_from(none);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->copied, 0u);
  EXPECT_EQ(r->full_size, 0u);  // the empty one first
  EXPECT_FALSE(r->truncated);
  r = server.try_recv_from(none);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->full_size, 65507u);
  EXPECT_TRUE(r->truncated);
  EXPECT_EQ(server.queued(), 0u);
  // Empty batches do nothing.
  EXPECT_EQ(client.try_send_batch(std::span<const OutDatagram>()).value(), 0u);
  EXPECT_EQ(server.try_recv_batch(std::span<Datagram>()).value(), 0u);
  EXPECT_EQ(run(server.recv_batch(std::span<Datagram>())).value(), 0u);
  // Out-of-range option values.
  EXPECT_EQ(client.set_ttl(0).error(), std::errc::invalid_argument);
  EXPECT_EQ(client.set_ttl(256).error(), std::errc::invalid_argument);
  EXPECT_TRUE(client.set_tos(-1).ok());  // IP_TOS keeps the low byte of any int, as Linux does
  EXPECT_EQ(client.set_gso_size(-1).error(), std::errc::invalid_argument);
  EXPECT_EQ(client.bind_to_interface(99).error(), std::errc::no_such_device);
}

TEST_F(ApiTest, TwoCoroutinesReceivingOnOneSocketShareWithoutLossOrDuplicates) {
  UdpSocket server = open_b();
  ASSERT_TRUE(server.bind({Ipv4Addr(), kPort}).ok());
  UdpSocket client = open_a();
  std::vector<std::string> got_a, got_b;
  auto reader = [&](std::vector<std::string>& got, int n) -> rt::Task<void> {
    std::array<std::byte, 64> buf{};
    for (int i = 0; i < n; ++i) {
      auto r = co_await server.recv_from(buf);
      if (!r) co_return;
      got.push_back(text(std::span(buf).first(r->copied)));
    }
  };
  rt::spawn(*reactor_, reader(got_a, 10));
  rt::spawn(*reactor_, reader(got_b, 10));
  drain(2);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(client.try_send_to({kB, kPort}, bytes("d" + std::to_string(i))).ok());
    if (i % 3 == 0) drain(2);  // some arrive one by one, some in bursts
  }
  drain(50);
  std::set<std::string> all(got_a.begin(), got_a.end());
  all.insert(got_b.begin(), got_b.end());
  EXPECT_EQ(got_a.size() + got_b.size(), 20u);
  EXPECT_EQ(all.size(), 20u);  // no datagram twice
  EXPECT_FALSE(got_a.empty());
  EXPECT_FALSE(got_b.empty());
}

}  // namespace
}  // namespace xnet::apitest
