// Socket and driver lifetimes: closing frees queued frames; destroying the
// driver with sockets open (and coroutines waiting on them) is safe; a send
// cancelled while waiting for space sent nothing.

#include <array>
#include <optional>

#include "runtime/cancellation.h"
#include "stack/api/udp_socket.h"
#include "tests/api/fixture.h"

namespace xnet::apitest {
namespace {

constexpr uint16_t kPort = 7100;

TEST_F(ApiTest, ClosingASocketWithQueuedDatagramsFreesTheirFrames) {
  UdpSocket server = open_b();
  ASSERT_TRUE(server.bind({Ipv4Addr(), kPort}).ok());
  UdpSocket client = open_a();
  const uint32_t idle = b_frames_out();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client.try_send_to({kB, kPort}, bytes("queued")).ok());
  drain();
  EXPECT_EQ(server.queued(), 5u);
  EXPECT_EQ(b_frames_out(), idle + 5);
  server.close();
  EXPECT_FALSE(server.is_open());
  EXPECT_EQ(b_frames_out(), idle);
  std::array<std::byte, 8> buf{};
  EXPECT_EQ(server.try_recv_from(buf).error(), std::errc::bad_file_descriptor);
  // The port is free again.
  UdpSocket again = open_b();
  EXPECT_TRUE(again.bind({Ipv4Addr(), kPort}).ok());
}

TEST_F(ApiTest, ClosingWhileAReceiveWaitsFailsItWithEbadf) {
  UdpSocket server = open_b();
  ASSERT_TRUE(server.bind({Ipv4Addr(), kPort}).ok());
  std::optional<Result<Datagram>> outcome;
  auto waiter = [&]() -> rt::Task<void> { outcome.emplace(co_await server.recv()); };
  rt::spawn(*reactor_, waiter());
  drain(2);
  ASSERT_FALSE(outcome.has_value());
  server.close();
  drain(2);
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->error(), std::errc::bad_file_descriptor);
}

TEST_F(ApiTest, MovedSocketKeepsWorking) {
  UdpSocket server = open_b();
  ASSERT_TRUE(server.bind({Ipv4Addr(), kPort}).ok());
  UdpSocket moved = std::move(server);
  EXPECT_FALSE(server.is_open());  // NOLINT(bugprone-use-after-move)
  UdpSocket client = open_a();
  ASSERT_TRUE(client.try_send_to({kB, kPort}, bytes("m")).ok());
  drain();
  EXPECT_TRUE(moved.try_recv().ok());
  EXPECT_EQ(db_->open_sockets(), 1u);
}

TEST_F(ApiTest, DestroyingTheDriverWithSocketsOpenIsSafe) {
  UdpSocket server = open_b();
  ASSERT_TRUE(server.bind({Ipv4Addr(), kPort}).ok());
  UdpSocket client = open_a();
  UdpSocket idle_client = open_a();
  ASSERT_TRUE(client.set_cork(true).ok());
  ASSERT_TRUE(client.try_send_to({kB, kPort}, bytes("corked, never sent")).ok());
  UdpSocket sender = open_a();
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(sender.try_send_to({kB, kPort}, bytes("queued")).ok());
  drain();
  EXPECT_EQ(server.queued(), 4u);

  std::optional<Result<RecvResult>> outcome;
  std::array<std::byte, 16> buf{};
  auto waiter = [&]() -> rt::Task<void> { outcome.emplace(co_await idle_client.recv_from(buf)); };
  rt::spawn(*reactor_, waiter());
  drain(2);
  ASSERT_FALSE(outcome.has_value());

  da_.reset();  // with a corked datagram and a waiting receiver
  db_.reset();  // with four queued datagrams
  drain(2);
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->error(), std::errc::network_down);
  EXPECT_EQ(server.try_recv().error(), std::errc::network_down);
  EXPECT_EQ(run(client.send(bytes("x"))).error(), std::errc::network_down);
  EXPECT_EQ(client.bind({kA, 1}).error(), std::errc::network_down);
  EXPECT_FALSE(server.is_open());
  EXPECT_EQ(server.driver(), nullptr);
  // Every frame is back (the stacks still exist; their links hold their rx queues).
  EXPECT_EQ(la_->pool().in_use(), la_->frames_held());
  EXPECT_EQ(lb_->pool().in_use(), lb_->frames_held());
}

TEST_F(ApiTest, DriverOwningItsStack) {
  db_.reset();
  auto driver = std::make_unique<StackDriver>(*reactor_, std::move(sb_));
  UdpSocket server = UdpSocket::open(*driver).value();
  ASSERT_TRUE(server.bind({Ipv4Addr(), kPort}).ok());
  UdpSocket client = open_a();
  ASSERT_TRUE(client.try_send_to({kB, kPort}, bytes("owned")).ok());
  drain();
  EXPECT_EQ(server.queued(), 1u);
  driver.reset();  // closes the socket, then destroys the stack
  EXPECT_EQ(server.try_recv().error(), std::errc::network_down);
  EXPECT_EQ(lb_->pool().in_use(), lb_->frames_held());
}

// Link b stops taking frames (its driver is gone and its receive queue is
// full), so a's send buffer stays full and a send waits until it times out:
// that send is not sent at all, and the ones accepted before are sent whole.
class SmallQueueTest : public ApiTest {
 protected:
  SmallQueueTest() { b_rx_capacity_ = 4; }
};

TEST_F(SmallQueueTest, SendCancelledWhileWaitingSentNothing) {
  UdpSocket server = open_b();
  ASSERT_TRUE(server.bind({Ipv4Addr(), kPort}).ok());
  UdpSocket client = open_a();
  ASSERT_TRUE(client.try_send_to({kB, kPort}, bytes("arp")).ok());  // resolve b
  drain();
  ASSERT_EQ(server.try_recv().value().size(), 3u);

  db_.reset();  // b no longer polls its link: its queue fills, a keeps frames
  ASSERT_TRUE(client.set_send_buffer(0).ok());
  std::vector<std::byte> payload(1000, std::byte{9});
  auto body = [&]() -> rt::Task<Result<size_t>> {
    for (;;) {
      Result<size_t> r = co_await rt::with_timeout(client.send_to({kB, kPort}, payload), 20ms);
      if (!r) co_return r;
    }
  };
  const uint64_t out_before = sa_->stats().udp.OutDatagrams;
  Result<size_t> last = run(body());
  EXPECT_EQ(last.error(), std::errc::timed_out);
  const uint64_t accepted = sa_->stats().udp.OutDatagrams - out_before;
  EXPECT_GT(accepted, 0u);
  // Still waiting: writers are woken once half the buffer is free (sock_def_write_space).
  EXPECT_GT(client.send_buffer_used() * 2, client.send_buffer_limit());
  // Bring b back: exactly the accepted datagrams arrive, each whole.
  UdpSocket server2 = std::move(server);
  EXPECT_EQ(server2.try_recv().error(), std::errc::network_down);
  db_ = std::make_unique<StackDriver>(*reactor_, *sb_);
  UdpSocket fresh = open_b();
  ASSERT_TRUE(fresh.bind({Ipv4Addr(), kPort}).ok());
  drain(200);
  EXPECT_EQ(fresh.queued(), accepted);
  while (auto d = fresh.try_recv()) EXPECT_EQ(d->size(), 1000u);
}

}  // namespace
}  // namespace xnet::apitest
