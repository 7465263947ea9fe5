// UdpSocket operations over two stacks: echo, metadata, zero copy, peek,
// try_*, timeouts and cancellation, send backpressure, batches, errors.

#include <array>
#include <optional>

#include "runtime/cancellation.h"
#include "runtime/sleep.h"
#include "stack/udp/udp_output.h"
#include "stack/udp/udp_recv.h"
#include "stack/udp/udp_table.h"
#include "stack/api/udp_socket.h"
#include "tests/api/fixture.h"

namespace xnet::apitest {
namespace {

constexpr uint16_t kPort = 7000;

rt::Task<void> echo_once(UdpSocket& s) {
  std::array<std::byte, 2048> buf{};
  Result<RecvResult> r = co_await s.recv_from(buf);
  if (!r) co_return;
  (void)co_await s.send_to(r->source, std::span(buf).first(r->size));
}

TEST_F(ApiTest, EchoRoundTrip) {
  UdpSocket server = open_b();
  ASSERT_TRUE(server.bind({Ipv4Addr(), kPort}).ok());
  rt::spawn(*reactor_, echo_once(server));

  UdpSocket client = open_a();
  auto body = [&]() -> rt::Task<std::string> {
    auto msg = bytes("hello xnet");
    Result<size_t> n = co_await client.send_to({kB, kPort}, msg);
    EXPECT_TRUE(n.ok());
    std::array<std::byte, 64> buf{};
    auto r = co_await rt::with_timeout(client.recv_from(buf), 2s);
    if (!r) co_return "error: " + r.error().message();
    EXPECT_EQ(r->source, (Endpoint{kB, kPort}));
    co_return text(std::span(buf).first(r->size));
  };
  EXPECT_EQ(run(body()), "hello xnet");
  Result<Endpoint> local = client.local_endpoint();
  ASSERT_TRUE(local.ok());
  EXPECT_GE(local->port, stack::kEphemeralLow);
  EXPECT_LE(local->port, stack::kEphemeralHigh);
}

// A per-poll app (StackDriver::add_app) written against stack/udp's
// non-blocking calls serves next to the coroutine sockets: it runs after the
// stack's poll, and its reply leaves in the same pass.
TEST_F(ApiTest, PollAppAnswersLikeAService) {
  stack::UdpSock* sk = sb_->udp().open();
  ASSERT_TRUE(sb_->udp().bind(*sk, kB, kPort).ok());
  uint64_t echoed = 0;
  db_->add_app([sk, &echoed](stack::Stack& s, rt::TimePoint now) {
    std::array<std::byte, 256> buf{};
    auto r = stack::udp_recvmsg(s, *sk, buf);
    if (!r) return false;
    stack::SockAddrIn dst{stack::kAfInet, {r->source.addr, r->source.port}};
    if (stack::udp_sendmsg(s, *sk, std::span(buf).first(r->copied), &dst, {}, now)) ++echoed;
    return true;
  });
  UdpSocket client = open_a();
  auto body = [&]() -> rt::Task<std::string> {
    (void)co_await client.send_to({kB, kPort}, bytes("polled"));
    std::array<std::byte, 64> buf{};
    auto r = co_await rt::with_timeout(client.recv_from(buf), 2s);
    if (!r) co_return "error: " + r.error().message();
    co_return text(std::span(buf).first(r->size));
  };
  EXPECT_EQ(run(body()), "polled");
  EXPECT_EQ(echoed, 1u);
  db_->clear_apps();
  sb_->udp().close(sk);
}

TEST_F(ApiTest, ConnectedClientUsesSendAndRecv) {
  UdpSocket server = open_b();
  ASSERT_TRUE(server.bind({kB, kPort}).ok());
  rt::spawn(*reactor_, echo_once(server));
  UdpSocket client = open_a();
  ASSERT_TRUE(client.connect({kB, kPort}).ok());
  ASSERT_TRUE(client.remote_endpoint().ok());
  auto body = [&]() -> rt::Task<std::string> {
    (void)co_await client.send(bytes("ping"));
    auto d = co_await rt::with_timeout(client.recv(), 2s);
    if (!d) co_return d.error().message();
    co_return text(d->front());
  };
  EXPECT_EQ(run(body()), "ping");
  ASSERT_TRUE(client.disconnect().ok());
  EXPECT_EQ(client.remote_endpoint().error(), std::errc::not_connected);
}

TEST_F(ApiTest, RecvFromMetadataAndTruncation) {
  UdpSocket server = open_b();
  ASSERT_TRUE(server.bind({Ipv4Addr(), kPort}).ok());
  UdpSocket client = open_a();
  ASSERT_TRUE(client.bind({kA, 40000}).ok());
  std::vector<std::byte> payload(100, std::byte{0x5a});
  SendOptions opts;
  opts.ttl = 17;
  opts.tos = 0x10;
  auto body = [&]() -> rt::Task<void> {
    EXPECT_TRUE((co_await client.send_to({kB, kPort}, payload, opts)).ok());
    EXPECT_TRUE((co_await client.send_to({kB, kPort}, payload, opts)).ok());
    std::array<std::byte, 10> small{};
    Result<RecvResult> r = co_await rt::with_timeout(server.recv_from(small), 2s);
    EXPECT_TRUE(r.ok());
    if (!r) co_return;
    EXPECT_EQ(r->size, 10u);
    EXPECT_EQ(r->full_size, 100u);
    EXPECT_TRUE(r->truncated);
    EXPECT_EQ(r->source, (Endpoint{kA, 40000}));
    EXPECT_EQ(r->info.dst_addr, kB);
    EXPECT_EQ(r->info.ifindex, 1);
    EXPECT_EQ(r->info.ttl, 17);
    EXPECT_EQ(r->info.tos, 0x10);
    // MSG_TRUNC: the full length is returned.
    Result<RecvResult> t = co_await rt::with_timeout(server.recv_from(small, {.trunc = true}), 2s);
    EXPECT_TRUE(t.ok());
    if (t) {
      EXPECT_EQ(t->size, 100u);
      EXPECT_TRUE(t->truncated);
    }
  };
  run(body());
  EXPECT_EQ(server.queued(), 0u);
}

TEST_F(ApiTest, ZeroCopyRecvHoldsFramesUntilDropped) {
  UdpSocket server = open_b();
  ASSERT_TRUE(server.bind({Ipv4Addr(), kPort}).ok());
  UdpSocket client = open_a();
  const uint32_t idle = b_frames_out();
  auto body = [&]() -> rt::Task<void> {
    for (int i = 0; i < 3; ++i) {
      (void)co_await client.send_to({kB, kPort}, bytes("datagram " + std::to_string(i)));
    }
  };
  run(body());
  drain();
  {
    std::vector<Datagram> held;
    for (int i = 0; i < 3; ++i) {
      auto d = run(rt::with_timeout(server.recv(), 2s));
      ASSERT_TRUE(d.ok());
      std::string joined;
      for (std::span<const std::byte> part : d->payload()) joined += text(part);
      EXPECT_EQ(joined, "datagram " + std::to_string(i));
      EXPECT_EQ(d->size(), joined.size());
      EXPECT_TRUE(d->contiguous());
      EXPECT_EQ(d->source().addr, kA);
      held.push_back(std::move(*d));
    }
    drain();
    // The application owns the three frames now, nothing else does.
    EXPECT_EQ(b_frames_out(), idle + 3);
    held[0].reset();
    EXPECT_EQ(b_frames_out(), idle + 2);
  }
  EXPECT_EQ(b_frames_out(), idle);
}

TEST_F(ApiTest, PeekLeavesTheDatagramQueued) {
  UdpSocket server = open_b();
  ASSERT_TRUE(server.bind({Ipv4Addr(), kPort}).ok());
  UdpSocket client = open_a();
  auto body = [&]() -> rt::Task<void> {
    std::array<std::byte, 16> buf{};
    // The peek waits for the datagram, then leaves it queued.
    auto sender = [&]() -> rt::Task<void> { (void)co_await client.send_to({kB, kPort}, bytes("abc")); };
    rt::spawn(*reactor_, sender());
    Result<RecvResult> p = co_await rt::with_timeout(server.recv_from(buf, RecvFlags{.peek = true}), 2s);
    EXPECT_TRUE(p.ok());
    if (p) {
      EXPECT_EQ(text(std::span(buf).first(p->size)), "abc");
    }
    EXPECT_EQ(server.queued(), 1u);
    Result<RecvResult> p2 = server.try_recv_from(buf, RecvFlags{.peek = true});
    EXPECT_TRUE(p2.ok());
    Result<RecvResult> r = co_await server.recv_from(buf);
    EXPECT_TRUE(r.ok());
    if (r) {
      EXPECT_EQ(text(std::span(buf).first(r->size)), "abc");
    }
    EXPECT_EQ(server.queued(), 0u);
  };
  run(body());
}

TEST_F(ApiTest, TryVariantsReturnEagain) {
  UdpSocket server = open_b();
  ASSERT_TRUE(server.bind({Ipv4Addr(), kPort}).ok());
  std::array<std::byte, 16> buf{};
  EXPECT_EQ(server.try_recv_from(buf).error(), std::errc::resource_unavailable_try_again);
  EXPECT_EQ(server.try_recv().error(), std::errc::resource_unavailable_try_again);
  EXPECT_EQ(server.try_recv_from(buf, RecvFlags{.peek = true}).error(), std::errc::resource_unavailable_try_again);
  EXPECT_EQ(server.try_recv_error().error(), std::errc::resource_unavailable_try_again);
  std::array<Datagram, 4> batch;
  EXPECT_EQ(server.try_recv_batch(batch).error(), std::errc::resource_unavailable_try_again);
  // MSG_DONTWAIT and O_NONBLOCK on the awaitable forms.
  EXPECT_EQ(run(server.recv_from(buf, {.dont_wait = true})).error(),
            std::errc::resource_unavailable_try_again);
  ASSERT_TRUE(server.set_nonblocking(true).ok());
  EXPECT_EQ(run(server.recv()).error(), std::errc::resource_unavailable_try_again);

  // A full send buffer: try_send_to fails with EAGAIN until frames leave.
  UdpSocket client = open_a();
  ASSERT_TRUE(client.set_send_buffer(0).ok());  // the minimum: 4608 bytes
  std::vector<std::byte> payload(1000, std::byte{1});
  size_t accepted = 0;
  Result<size_t> r = client.try_send_to({kB, kPort}, payload);
  while (r.ok()) {
    ++accepted;
    r = client.try_send_to({kB, kPort}, payload);
  }
  EXPECT_EQ(r.error(), std::errc::resource_unavailable_try_again);
  EXPECT_GE(accepted, 1u);
  EXPECT_GE(client.send_buffer_used(), client.send_buffer_limit());
  drain();
  EXPECT_TRUE(client.try_send_to({kB, kPort}, payload).ok());
  drain();
  EXPECT_EQ(server.queued(), accepted + 1);
}

TEST_F(ApiTest, TimedOutRecvLosesNothing) {
  UdpSocket server = open_b();
  ASSERT_TRUE(server.bind({Ipv4Addr(), kPort}).ok());
  UdpSocket client = open_a();
  std::array<std::byte, 32> buf{};
  auto first = run(rt::with_timeout(server.recv_from(buf), 20ms));
  EXPECT_EQ(first.error(), std::errc::timed_out);
  auto body = [&]() -> rt::Task<void> { (void)co_await client.send_to({kB, kPort}, bytes("late")); };
  run(body());
  auto second = run(rt::with_timeout(server.recv_from(buf), 2s));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(text(std::span(buf).first(second->size)), "late");
  // A zero-copy receive timing out leaves nothing behind either.
  EXPECT_EQ(run(rt::with_timeout(server.recv(), 5ms)).error(), std::errc::timed_out);
  EXPECT_EQ(server.queued(), 0u);
}

// SO_RCVTIMEO as Linux 6.18 has it (asked with kernel sockets on lo: 200 ms
// -> EAGAIN after ~0.2 s; a negative value -> EAGAIN at once; 0 -> forever).
TEST_F(ApiTest, RecvTimeoutFailsWithEagainLikeSoRcvtimeo) {
  UdpSocket server = open_b();
  ASSERT_TRUE(server.bind({Ipv4Addr(), kPort}).ok());
  UdpSocket client = open_a();
  std::array<std::byte, 32> buf{};
  std::array<Datagram, 2> batch;
  ASSERT_TRUE(server.set_recv_timeout(20ms).ok());
  rt::TimePoint t0 = rt::Reactor::now();
  EXPECT_EQ(run(server.recv_from(buf)).error(), std::errc::resource_unavailable_try_again);
  EXPECT_GE(rt::Reactor::now() - t0, 20ms);
  EXPECT_EQ(run(server.recv()).error(), std::errc::resource_unavailable_try_again);
  EXPECT_EQ(run(server.recv_batch(batch)).error(), std::errc::resource_unavailable_try_again);
  EXPECT_EQ(run(server.recv_error()).error(), std::errc::resource_unavailable_try_again);
  EXPECT_EQ(reactor_->armed_timers(), 0u);

  // A datagram within the timeout is received; the timer goes with the wait.
  auto late_send = [&]() -> rt::Task<void> {
    (void)co_await rt::sleep_for(5ms);
    (void)co_await client.send_to({kB, kPort}, bytes("in time"));
  };
  rt::spawn(late_send());
  ASSERT_TRUE(server.set_recv_timeout(2s).ok());
  Result<RecvResult> r = run(server.recv_from(buf));
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(text(std::span(buf).first(r->size)), "in time");
  EXPECT_EQ(reactor_->armed_timers(), 0u);

  // Negative: every wait fails at once.
  ASSERT_TRUE(server.set_recv_timeout(-1us).ok());
  t0 = rt::Reactor::now();
  EXPECT_EQ(run(server.recv_from(buf)).error(), std::errc::resource_unavailable_try_again);
  EXPECT_LT(rt::Reactor::now() - t0, 1s);
  // 0: waits forever again (only the outer with_timeout ends it).
  ASSERT_TRUE(server.set_recv_timeout(0us).ok());
  EXPECT_EQ(run(rt::with_timeout(server.recv_from(buf), 30ms)).error(), std::errc::timed_out);
  EXPECT_EQ(reactor_->armed_timers(), 0u);

  // Closing a socket whose receive waits with a timeout fails the receive
  // and leaves no timer behind.
  ASSERT_TRUE(server.set_recv_timeout(10s).ok());
  std::optional<Result<RecvResult>> outcome;
  auto receiver = [&]() -> rt::Task<void> { outcome.emplace(co_await server.recv_from(buf)); };
  rt::spawn(receiver());
  drain(2);
  EXPECT_EQ(reactor_->armed_timers(), 1u);
  server.close();
  drain(2);
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->error(), std::errc::bad_file_descriptor);
  EXPECT_EQ(reactor_->armed_timers(), 0u);
  EXPECT_EQ(UdpSocket().set_recv_timeout(1s).error(), std::errc::bad_file_descriptor);
}

// SO_SNDTIMEO: a send that waited that long for send-buffer space fails with
// EAGAIN; nothing of it was sent. The buffer stays full here because the
// frames wait for an ARP answer that never comes (the kernel's queued skbs
// hold sk_wmem the same way).
TEST_F(ApiTest, SendTimeoutFailsWithEagainLikeSoSndtimeo) {
  UdpSocket client = open_a();
  ASSERT_TRUE(client.set_send_buffer(0).ok());  // 4608 bytes
  ASSERT_TRUE(client.set_send_timeout(20ms).ok());
  const Endpoint nobody{Ipv4Addr(10, 0, 0, 9), kPort};
  std::vector<std::byte> payload(1000, std::byte{3});
  size_t accepted = 0;
  while (client.try_send_to(nobody, payload).ok()) ++accepted;
  ASSERT_GE(accepted, 1u);
  const uint32_t used = client.send_buffer_used();
  const stack::Stats before = sa_->stats();
  const rt::TimePoint t0 = rt::Reactor::now();
  EXPECT_EQ(run(client.send_to(nobody, payload)).error(), std::errc::resource_unavailable_try_again);
  EXPECT_GE(rt::Reactor::now() - t0, 20ms);
  // Counted once each, at the end, as the kernel counts a blocking send that
  // gave up (asked Linux 6.18: a send that waited and then went counts
  // nothing); the tries before the waits count nothing.
  EXPECT_EQ(sa_->stats().udp.SndbufErrors - before.udp.SndbufErrors, 1u);
  EXPECT_EQ(sa_->stats().ip.OutDiscards - before.ip.OutDiscards, 1u);
  std::array<OutDatagram, 2> msgs{OutDatagram{nobody, payload}, OutDatagram{nobody, payload}};
  EXPECT_EQ(run(client.send_batch(msgs)).error(), std::errc::resource_unavailable_try_again);
  EXPECT_EQ(sa_->stats().udp.SndbufErrors - before.udp.SndbufErrors, 2u);
  EXPECT_EQ(sa_->stats().ip.OutDiscards - before.ip.OutDiscards, 2u);
  EXPECT_EQ(client.send_buffer_used(), used);  // the timed-out sends took nothing
  EXPECT_EQ(reactor_->armed_timers(), 0u);
}

// Cancel a waiting receive at every point of a datagram's arrival: the
// datagram is either returned by that receive or still queued, never lost.
TEST_F(ApiTest, CancelledRecvRacingWithArrivalLosesNothing) {
  UdpSocket server = open_b();
  ASSERT_TRUE(server.bind({Ipv4Addr(), kPort}).ok());
  UdpSocket client = open_a();
  // Resolve ARP first so that every round has the same shape.
  ASSERT_TRUE(client.try_send_to({kB, kPort}, bytes("warm-up")).ok());
  drain();
  ASSERT_TRUE(server.try_recv().ok());

  int delivered = 0, left_queued = 0;
  for (int k = 0; k < 8; ++k) {
    std::optional<Result<RecvResult>> outcome;
    std::array<std::byte, 32> buf{};
    rt::CancellationSource cancel;
    auto receiver = [&]() -> rt::Task<void> { outcome.emplace(co_await server.recv_from(buf)); };
    rt::spawn(receiver(), cancel.token());
    drain(2);  // the receiver is waiting
    ASSERT_FALSE(outcome.has_value());
    ASSERT_TRUE(client.try_send_to({kB, kPort}, bytes("msg" + std::to_string(k))).ok());
    for (int i = 0; i < k; ++i) reactor_->run_once(false);
    cancel.cancel();
    drain();
    ASSERT_TRUE(outcome.has_value());
    if (outcome->ok()) {
      ++delivered;
      EXPECT_EQ(text(std::span(buf).first((*outcome)->size)), "msg" + std::to_string(k));
      EXPECT_EQ(server.queued(), 0u);
    } else {
      ++left_queued;
      EXPECT_EQ(outcome->error(), std::errc::operation_canceled);
      auto d = server.try_recv();
      ASSERT_TRUE(d.ok()) << "round " << k << ": the datagram was lost";
      EXPECT_EQ(text(d->front()), "msg" + std::to_string(k));
    }
  }
  EXPECT_EQ(delivered + left_queued, 8);
  EXPECT_GT(delivered, 0);
  EXPECT_GT(left_queued, 0);
}

TEST_F(ApiTest, SendWaitsForBufferSpace) {
  UdpSocket server = open_b();
  ASSERT_TRUE(server.bind({Ipv4Addr(), kPort}).ok());
  UdpSocket client = open_a();
  ASSERT_TRUE(client.set_send_buffer(0).ok());
  constexpr int kCount = 30;
  int waited = 0;
  auto body = [&]() -> rt::Task<void> {
    std::vector<std::byte> payload(1000, std::byte{7});
    for (int i = 0; i < kCount; ++i) {
      if (client.send_buffer_used() >= client.send_buffer_limit()) ++waited;
      Result<size_t> r = co_await rt::with_timeout(client.send_to({kB, kPort}, payload), 2s);
      EXPECT_TRUE(r.ok()) << r.error().message();
    }
  };
  run(body());
  drain();
  EXPECT_GT(waited, 0);
  EXPECT_EQ(server.queued(), static_cast<size_t>(kCount));
}

TEST_F(ApiTest, BatchSendAndRecv) {
  UdpSocket server = open_b();
  ASSERT_TRUE(server.bind({Ipv4Addr(), kPort}).ok());
  UdpSocket client = open_a();
  std::vector<std::vector<std::byte>> payloads;
  std::vector<OutDatagram> out;
  for (int i = 0; i < 8; ++i) payloads.push_back(bytes("batch " + std::to_string(i)));
  for (auto& p : payloads) out.push_back(OutDatagram{Endpoint{kB, kPort}, p, {}});
  auto body = [&]() -> rt::Task<std::vector<std::string>> {
    Result<size_t> sent = co_await client.send_batch(out);
    EXPECT_TRUE(sent.ok());
    if (sent) {
      EXPECT_EQ(*sent, 8u);
    }
    std::vector<std::string> got;
    std::array<Datagram, 16> in;
    while (got.size() < 8) {
      Result<size_t> n = co_await rt::with_timeout(server.recv_batch(in), 2s);
      if (!n) break;
      EXPECT_GE(*n, 1u);
      for (size_t i = 0; i < *n; ++i) {
        got.push_back(text(in[i].front()));
        in[i].reset();
      }
    }
    co_return got;
  };
  std::vector<std::string> got = run(body());
  ASSERT_EQ(got.size(), 8u);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(got[i], "batch " + std::to_string(i));
  // The non-waiting forms: everything queued comes back in one call.
  ASSERT_EQ(client.try_send_batch(out).value(), 8u);
  drain();
  std::array<Datagram, 16> in;
  EXPECT_EQ(server.try_recv_batch(in).value(), 8u);
}

// recv_batch takes the queue in one pass (udp_recv_datagrams): in order
// across calls, Udp InDatagrams once per datagram, the receive-buffer charge
// given back (a buffer that holds one datagram takes the next one after the
// batch), and a pending socket error before any datagram, as recvmmsg's first
// recvmsg reports it.
TEST_F(ApiTest, RecvBatchTakesTheQueueInOrderCountsEachAndReleasesItsCharge) {
  UdpSocket server = open_b();
  ASSERT_TRUE(server.bind({Ipv4Addr(), kPort}).ok());
  UdpSocket client = open_a();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client.try_send_to({kB, kPort}, bytes("d" + std::to_string(i))).ok());
  drain();
  const uint64_t before = sb_->stats().udp.InDatagrams;
  std::array<Datagram, 3> in;
  ASSERT_EQ(server.try_recv_batch(in).value(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(text(in[i].front()), "d" + std::to_string(i));
  EXPECT_EQ(sb_->stats().udp.InDatagrams, before + 3);
  EXPECT_EQ(server.queued(), 2u);
  ASSERT_EQ(server.try_recv_batch(in).value(), 2u);
  EXPECT_EQ(text(in[0].front()), "d3");
  EXPECT_EQ(text(in[1].front()), "d4");
  EXPECT_EQ(sb_->stats().udp.InDatagrams, before + 5);
  EXPECT_EQ(server.try_recv_batch(in).error(), std::errc::resource_unavailable_try_again);
  for (Datagram& d : in) d.reset();

  // The smallest buffer holds one queued datagram; the batch gives its charge back.
  ASSERT_TRUE(server.set_recv_buffer(0).ok());
  ASSERT_TRUE(client.try_send_to({kB, kPort}, bytes("kept")).ok());
  ASSERT_TRUE(client.try_send_to({kB, kPort}, bytes("over")).ok());
  drain();
  EXPECT_EQ(sb_->stats().udp.RcvbufErrors, 1u);
  ASSERT_EQ(server.try_recv_batch(in).value(), 1u);
  EXPECT_EQ(text(in[0].front()), "kept");
  in[0].reset();
  ASSERT_TRUE(client.try_send_to({kB, kPort}, bytes("again")).ok());
  drain();
  ASSERT_EQ(server.try_recv_batch(in).value(), 1u);
  EXPECT_EQ(text(in[0].front()), "again");
  EXPECT_EQ(sb_->stats().udp.RcvbufErrors, 1u);
  in[0].reset();

  // A pending error comes first, the queued datagram with the next call.
  UdpSocket peer = open_a();
  ASSERT_TRUE(peer.connect({kB, 9999}).ok());  // nobody listens there yet
  ASSERT_TRUE(peer.try_send(bytes("anyone?")).ok());
  drain();
  UdpSocket late = open_b();
  ASSERT_TRUE(late.bind({Ipv4Addr(), 9999}).ok());
  ASSERT_TRUE(late.try_send_to(peer.local_endpoint().value(), bytes("late")).ok());
  drain();
  ASSERT_EQ(peer.queued(), 1u);
  EXPECT_EQ(peer.try_recv_batch(in).error(), std::errc::connection_refused);
  ASSERT_EQ(peer.try_recv_batch(in).value(), 1u);
  EXPECT_EQ(text(in[0].front()), "late");
}

// sendmsg hands its frames to the device before it returns (the kernel's
// dev_queue_xmit → driver): a send's frame is on the link when the call
// returns, not at the reactor's next flush; a batch's frames leave together.
TEST_F(ApiTest, SendHandsItsFramesToTheLinkBeforeReturning) {
  UdpSocket server = open_b();
  ASSERT_TRUE(server.bind({Ipv4Addr(), kPort}).ok());
  UdpSocket client = open_a();
  ASSERT_TRUE(client.try_send_to({kB, kPort}, bytes("resolve")).ok());
  drain();  // ARP answered: the next frames go straight out
  const uint32_t before = lb_->rx_pending();
  ASSERT_TRUE(client.try_send_to({kB, kPort}, bytes("one")).ok());
  EXPECT_EQ(lb_->rx_pending(), before + 1);
  std::vector<std::vector<std::byte>> payloads{bytes("a"), bytes("b"), bytes("c")};
  std::vector<OutDatagram> out;
  for (auto& p : payloads) out.push_back(OutDatagram{Endpoint{kB, kPort}, p, {}});
  ASSERT_EQ(client.try_send_batch(out).value(), 3u);
  EXPECT_EQ(lb_->rx_pending(), before + 4);
  drain();
  std::array<Datagram, 8> in;
  EXPECT_EQ(server.try_recv_batch(in).value(), 5u);
}

TEST_F(ApiTest, ConnectedSocketReportsEconnrefusedOnce) {
  UdpSocket client = open_a();
  ASSERT_TRUE(client.connect({kB, 9999}).ok());  // nobody listens there
  auto body = [&]() -> rt::Task<void> {
    EXPECT_TRUE((co_await client.send(bytes("anyone?"))).ok());
    std::array<std::byte, 16> buf{};
    Result<RecvResult> r = co_await rt::with_timeout(client.recv_from(buf), 2s);
    EXPECT_EQ(r.error(), std::errc::connection_refused);
  };
  run(body());
  // Reported once: the socket works again.
  std::array<std::byte, 16> buf{};
  EXPECT_EQ(client.try_recv_from(buf).error(), std::errc::resource_unavailable_try_again);
  EXPECT_EQ(sb_->stats().udp.NoPorts, 1u);
  EXPECT_FALSE(client.take_error());
}

TEST_F(ApiTest, SendReportsThePendingError) {
  UdpSocket client = open_a();
  ASSERT_TRUE(client.connect({kB, 9999}).ok());
  ASSERT_TRUE(client.try_send(bytes("x")).ok());
  drain();
  EXPECT_EQ(client.try_send(bytes("y")).error(), std::errc::connection_refused);
  EXPECT_TRUE(client.try_send(bytes("z")).ok());
  drain();
}

TEST_F(ApiTest, RecvErrorGetsTheIcmpErrorWithRecverr) {
  UdpSocket client = open_a();
  ASSERT_TRUE(client.set_recv_errors(true).ok());
  auto body = [&]() -> rt::Task<Result<SockError>> {
    (void)co_await client.send_to({kB, 9999}, bytes("lost"));
    co_return co_await rt::with_timeout(client.recv_error(), 2s);
  };
  Result<SockError> e = run(body());
  ASSERT_TRUE(e.ok()) << e.error().message();
  EXPECT_EQ(e->err, std::errc::connection_refused);
  EXPECT_EQ(e->origin, ErrOrigin::kIcmp);
  EXPECT_EQ(e->type, 3);  // destination unreachable
  EXPECT_EQ(e->code, 3);  // port unreachable
  EXPECT_EQ(e->offender, kB);
  EXPECT_EQ(e->dest_addr, kB);
  EXPECT_EQ(e->dest_port, 9999);
  EXPECT_EQ(client.try_recv_error().error(), std::errc::resource_unavailable_try_again);
}

TEST_F(ApiTest, SocketOptions) {
  UdpSocket s = open_a();
  EXPECT_TRUE(s.set_ttl(5).ok());
  EXPECT_EQ(s.set_ttl(0).error(), std::errc::invalid_argument);
  EXPECT_TRUE(s.set_tos(0x20).ok());
  EXPECT_TRUE(s.set_broadcast(true).ok());
  EXPECT_TRUE(s.set_recv_buffer(1000).ok());
  EXPECT_EQ(s.raw()->rcvbuf, 2304u);
  EXPECT_TRUE(s.set_send_buffer(10000).ok());
  EXPECT_EQ(s.send_buffer_limit(), 20000u);
  EXPECT_TRUE(s.set_no_check(true).ok());
  EXPECT_TRUE(s.set_pmtu_discovery(PmtuDisc::kDo).ok());
  EXPECT_TRUE(s.set_gso_size(1000).ok());
  EXPECT_TRUE(s.set_multicast_ttl(3).ok());
  EXPECT_TRUE(s.set_multicast_if(kA, 1).ok());
  EXPECT_TRUE(s.bind_to_interface(1).ok());
  EXPECT_EQ(s.bind_to_interface(7).error(), std::errc::no_such_device);

  // Reuse: both sockets must ask.
  UdpSocket a = open_b(), b = open_b(), c = open_b();
  ASSERT_TRUE(a.set_reuse_port(true).ok());
  ASSERT_TRUE(a.bind({Ipv4Addr(), 6000}).ok());
  EXPECT_EQ(c.bind({Ipv4Addr(), 6000}).error(), std::errc::address_in_use);
  ASSERT_TRUE(b.set_reuse_port(true).ok());
  EXPECT_TRUE(b.bind({Ipv4Addr(), 6000}).ok());
  UdpSocket d = open_b(), e = open_b();
  ASSERT_TRUE(d.set_reuse_address(true).ok());
  ASSERT_TRUE(e.set_reuse_address(true).ok());
  ASSERT_TRUE(d.bind({kB, 6001}).ok());
  EXPECT_TRUE(e.bind({kB, 6001}).ok());
  UdpSocket f = open_b();
  EXPECT_EQ(f.bind({Ipv4Addr(10, 9, 9, 9), 6002}).error(), std::errc::address_not_available);
  ASSERT_TRUE(f.bind({Ipv4Addr(), 0}).ok());
  EXPECT_GE(f.local_endpoint()->port, stack::kEphemeralLow);
}

TEST_F(ApiTest, JoinedGroupAndBroadcastsReachTheSocket) {
  const Ipv4Addr group(239, 1, 2, 3);
  UdpSocket server = open_b();
  ASSERT_TRUE(server.bind({Ipv4Addr(), kPort}).ok());
  // IP_ADD_MEMBERSHIP's errors (Linux 6.18), then a join by interface index.
  EXPECT_EQ(server.join_group(kA, {}, 1).error(), std::errc::invalid_argument);
  EXPECT_EQ(server.join_group(group, {}, 7).error(), std::errc::no_such_device);
  EXPECT_EQ(server.join_group(group).error(), std::errc::no_such_device);  // no route to 239/8
  ASSERT_TRUE(server.join_group(group, {}, 1).ok());
  EXPECT_EQ(server.join_group(group, kB).error(), std::errc::address_in_use);

  UdpSocket client = open_a();
  // Bound to its address: a limited broadcast leaves by that address's
  // interface (there is no route for 255.255.255.255, as in Linux).
  ASSERT_TRUE(client.bind({kA, 0}).ok());
  ASSERT_TRUE(client.set_broadcast(true).ok());
  ASSERT_TRUE(client.set_multicast_if(kA, 1).ok());
  auto exchange = [&](Ipv4Addr dst) -> rt::Task<Ipv4Addr> {
    (void)co_await client.send_to({dst, kPort}, bytes("hi"));
    auto d = co_await rt::with_timeout(server.recv(), 200ms);
    if (!d) co_return Ipv4Addr();
    co_return d->info().dst_addr;
  };
  EXPECT_EQ(run(exchange(group)), group);
  EXPECT_EQ(run(exchange(Ipv4Addr(255, 255, 255, 255))), Ipv4Addr(255, 255, 255, 255));
  EXPECT_EQ(run(exchange(Ipv4Addr(10, 0, 0, 255))), Ipv4Addr(10, 0, 0, 255));
  EXPECT_EQ(run(exchange(Ipv4Addr(224, 0, 0, 1))), Ipv4Addr(224, 0, 0, 1));

  // IP_DROP_MEMBERSHIP: the group is filtered again.
  ASSERT_TRUE(server.leave_group(group, kB).ok());
  EXPECT_EQ(server.leave_group(group, {}, 1).error(), std::errc::address_not_available);
  EXPECT_EQ(run(exchange(group)), Ipv4Addr());
  EXPECT_EQ(sb_->stats().dropped(stack::DropReason::kMulticastNotJoined), 1u);
  // close() leaves what is still joined.
  ASSERT_TRUE(server.join_group(group, {}, 1).ok());
  server.close();
  EXPECT_FALSE(sb_->is_joined(1, group));
}

TEST_F(ApiTest, IpMtuNeedsAConnectedSocket) {
  // getsockopt(IP_MTU): ENOTCONN unconnected, the path's MTU connected.
  UdpSocket s = open_a();
  EXPECT_EQ(s.mtu().error(), std::errc::not_connected);
  ASSERT_TRUE(s.connect({kB, kPort}).ok());
  ASSERT_TRUE(s.mtu().ok());
  EXPECT_EQ(*s.mtu(), 1500u);
  EXPECT_TRUE(s.set_pmtu_discovery(PmtuDisc::kInterface).ok());
  EXPECT_TRUE(s.set_pmtu_discovery(PmtuDisc::kOmit).ok());
  EXPECT_EQ(*s.mtu(), 1500u);
  ASSERT_TRUE(s.disconnect().ok());
  EXPECT_EQ(s.mtu().error(), std::errc::not_connected);
}

TEST_F(ApiTest, DontFragmentPerSend) {
  UdpSocket client = open_a();
  std::vector<std::byte> big(3000, std::byte{3});
  // DF for this datagram: larger than the MTU is EMSGSIZE; without, it fragments.
  EXPECT_EQ(client.try_send_to({kB, kPort}, big, {.dont_fragment = true}).error(), std::errc::message_size);
  UdpSocket server = open_b();
  ASSERT_TRUE(server.bind({Ipv4Addr(), kPort}).ok());
  auto body = [&]() -> rt::Task<size_t> {
    (void)co_await client.send_to({kB, kPort}, big, {.dont_fragment = false});
    auto d = co_await rt::with_timeout(server.recv(), 2s);
    if (!d) co_return 0;
    EXPECT_FALSE(d->contiguous());  // reassembled: one span per fragment
    size_t total = 0;
    for (auto part : d->payload()) total += part.size();
    EXPECT_EQ(total, d->size());
    co_return d->size();
  };
  EXPECT_EQ(run(body()), 3000u);
}

TEST_F(ApiTest, ReassembledDatagramIsSentOnAsItIs) {
  UdpSocket client = open_a();
  ASSERT_TRUE(client.bind({kA, 40001}).ok());
  UdpSocket server = open_b();
  ASSERT_TRUE(server.bind({Ipv4Addr(), kPort}).ok());
  std::vector<std::byte> big(4000);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::byte>(i * 7 + 1);
  auto body = [&]() -> rt::Task<void> {
    (void)co_await client.send_to({kB, kPort}, big);
    auto d = co_await rt::with_timeout(server.recv(), 2s);
    if (!d) co_return;
    EXPECT_FALSE(d->contiguous());  // three fragments, three frames
    // The echo gathers the frames: one datagram of 4000 bytes goes back.
    Result<size_t> sent = co_await server.send_to(d->source(), *d);
    EXPECT_TRUE(sent.ok());
    if (sent) {
      EXPECT_EQ(*sent, big.size());
    }
    auto back = co_await rt::with_timeout(client.recv(), 2s);
    if (!back) co_return;
    EXPECT_EQ(back->to_vector(), big);
    // An empty datagram has one (empty) part.
    (void)co_await client.send_to({kB, kPort}, std::span<const std::byte>());
    auto e = co_await rt::with_timeout(server.recv(), 2s);
    if (!e) co_return;
    Result<size_t> empty = server.try_send_to(e->source(), *e);
    EXPECT_TRUE(empty.ok());
    if (empty) {
      EXPECT_EQ(*empty, 0u);
    }
  };
  run(body());
  EXPECT_EQ(sb_->stats().udp.OutDatagrams, 2u);
}

}  // namespace
}  // namespace xnet::apitest
