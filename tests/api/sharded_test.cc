// The multi-shard server pattern on an rt::Runtime with 2 shards: each shard
// has a server stack (10.0.0.1) joined by its own MemoryLink pair to a client
// stack (10.0.0.2) on the same shard; the echo service runs on every shard
// (serve_on_all_shards, SO_REUSEPORT) and each client is answered by the
// shard its datagram landed on. Plus a cross-shard call with on_shard.

#include <array>
#include <memory>
#include <string>

#include "runtime/runtime.h"
#include "runtime/with_timeout.h"
#include "stack/api/sharded_stacks.h"
#include "stack/api/udp_socket.h"
#include "tests/api/fixture.h"

namespace xnet::apitest {
namespace {

constexpr uint16_t kPort = 7200;

struct ClientSide {
  std::unique_ptr<MemoryLink> server_link;  // kept here to check its pool at the end
  std::unique_ptr<MemoryLink> client_link;
  std::unique_ptr<stack::Stack> stack;
  std::unique_ptr<StackDriver> driver;
};

std::unique_ptr<stack::Stack> make_stack(MemoryLink& link, Ipv4Addr addr) {
  stack::StackConfig cfg;
  cfg.seed = addr.value();
  auto s = std::make_unique<stack::Stack>(cfg);
  const uint16_t ifindex = s->add_interface(link);
  (void)s->add_address(ifindex, wire::Ipv4Prefix{addr, 24}, rt::Reactor::now());
  return s;
}

rt::Task<void> echo_service(StackDriver& driver) {
  UdpSocket s = UdpSocket::open(driver).value();
  (void)s.set_reuse_port(true);
  if (!s.bind({Ipv4Addr(), kPort})) co_return;
  std::array<std::byte, 256> buf{};
  for (;;) {
    Result<RecvResult> r = co_await s.recv_from(buf);
    if (!r) co_return;  // cancelled, or ENETDOWN at stop()
    std::string reply = text(std::span(buf).first(r->size)) + " from shard " + std::to_string(rt::this_shard());
    (void)co_await s.send_to(r->source, bytes(reply));
  }
}

TEST(ShardedStacksTest, ReuseportServerOnTwoShardsAnswersClients) {
  rt::RuntimeOptions options;
  options.shards = 2;
  options.pin_threads = false;
  rt::Runtime runtime(options);
  std::array<ClientSide, 2> side;
  {
    ShardedStacks stacks(runtime, [&](unsigned shard) {
      stack::MemoryLinkConfig cs, cc;
      cs.name = "srv" + std::to_string(shard);
      cc.name = "cli" + std::to_string(shard);
      cs.mac = wire::MacAddr({2, 0, 0, 0, static_cast<uint8_t>(shard), 1});
      cc.mac = wire::MacAddr({2, 0, 0, 0, static_cast<uint8_t>(shard), 2});
      auto [srv, cli] = MemoryLink::make_pair(cs, cc);
      ClientSide& c = side[shard];
      c.server_link = std::move(srv);
      c.client_link = std::move(cli);
      c.stack = make_stack(*c.client_link, kB);
      c.driver = std::make_unique<StackDriver>(*rt::Reactor::current(), *c.stack);
      ShardNet net;  // the server link lives in `side` (it must outlive the stack)
      net.stack = make_stack(*c.server_link, kA);
      return net;
    });
    ASSERT_EQ(stacks.shard_count(), 2u);
    serve_on_all_shards(stacks, echo_service);

    for (unsigned k = 0; k < 2; ++k) {
      std::string got = runtime.run_on(k, [&side, k]() -> rt::Task<std::string> {
        UdpSocket c = UdpSocket::open(*side[k].driver).value();
        (void)co_await c.send_to({kA, kPort}, bytes("hi"));
        std::array<std::byte, 256> buf{};
        Result<RecvResult> r = co_await rt::with_timeout(c.recv_from(buf), 2s);
        if (!r) co_return "error: " + r.error().message();
        EXPECT_EQ(r->source, (Endpoint{kA, kPort}));
        co_return text(std::span(buf).first(r->size));
      });
      EXPECT_EQ(got, "hi from shard " + std::to_string(k));
    }

    // A cross-shard call: shard 0 reads shard 1's counters on shard 1.
    uint64_t in_on_1 = runtime.run_on(0, [&stacks]() -> rt::Task<uint64_t> {
      co_return co_await stacks.on_shard(1, [](StackDriver& d) { return d.stack().stats().udp.InDatagrams; });
    });
    EXPECT_EQ(in_on_1, 1u);
    // The services end; each shard's stack stays readable until stop().
    stacks.stop_services();
    for (unsigned k = 0; k < 2; ++k) {
      EXPECT_EQ(runtime.run_on(k, [&stacks, k] { return stacks.stack(k).stats().udp.OutDatagrams; }), 1u);
    }
    stacks.stop();
  }
  for (unsigned k = 0; k < 2; ++k) {
    runtime.run_on(k, [&side, k] {
      ClientSide& c = side[k];
      c.driver.reset();
      c.stack.reset();
      EXPECT_EQ(c.server_link->pool().in_use(), c.server_link->frames_held());
      EXPECT_EQ(c.client_link->pool().in_use(), c.client_link->frames_held());
      c.server_link.reset();
      c.client_link.reset();
    });
  }
}

}  // namespace
}  // namespace xnet::apitest
