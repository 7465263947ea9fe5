// Cross-shard delivery end to end (issue 17): xnet serves both queues of a
// 2-queue veth with two shards, and the kernel puts each datagram on the
// queue we choose — every reply of one test on the queue of the shard that
// does *not* own the socket — so each is handed over, and none may be lost.
//
//   [ns xnet]   xnet owns 10.77.0.1/24 (ServiceHost, 2 shards, one per queue)
//   [ns kernel] 10.77.0.2/24, `ethtool -K tx off`; XPS maps CPU q to tx queue q
//               (veth: tx queue q arrives on the peer's rx queue q), and the
//               kernel sockets send from a thread pinned to CPU q.
//
// Root only (tags no-sandbox); the namespaces go with the topology's
// destructor, on failure too. Every wait is bounded.

#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>

#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "host/service_host.h"
#include "stack/core/stack.h"
#include "stack/udp/udp_output.h"
#include "stack/udp/udp_recv.h"
#include "stack/udp/udp_table.h"
#include "tests/e2e/e2e_host.h"
#include "tests/e2e/kernel_socket.h"
#include "tests/netns/privileged.h"
#include "xdp/host/xdp_host.h"

namespace xnet::e2e {
namespace {

using namespace std::chrono_literals;

const wire::Ipv4Addr kXnetAddr(10, 77, 0, 1);
const wire::Ipv4Addr kKernelAddr(10, 77, 0, 2);
constexpr uint32_t kDatagrams = 64;
constexpr size_t kSize = 200;

// Runs fn on a thread pinned to `cpu` (so XPS sends its datagrams on tx
// queue `cpu` of the kernel's veth end) and waits for it.
template <typename F>
void on_cpu(int cpu, F fn) {
  std::thread t([&] {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    ASSERT_EQ(pthread_setaffinity_np(pthread_self(), sizeof set, &set), 0);
    fn();
  });
  t.join();
}

class XshardE2e : public ::testing::Test {
 protected:
  void start() {
    ASSERT_GE(std::thread::hardware_concurrency(), 2u) << "XPS needs a CPU per queue";
    netns::VethOptions o;
    o.queues = 2;
    o.kernel_tx_checksum_off = true;
    std::string error;
    topo_ = netns::VethTopology::create(o, &error);
    ASSERT_TRUE(topo_) << error;
    // CPU q sends on tx queue q.
    for (int q = 0; q < 2; ++q) {
      const auto r = topo_->kernel_ns().exec("echo " + std::to_string(1 << q) + " > /sys/class/net/" +
                                             topo_->kernel_if() + "/queues/tx-" + std::to_string(q) + "/xps_cpus");
      ASSERT_TRUE(r.ok()) << r.output;
    }
    ServiceOptions so = e2e_service_options(topo_->xnet_if(), wire::Ipv4Prefix{kXnetAddr, 24}, 2);
    std::string open_error;
    topo_->xnet_ns().run([&] { host_ = ServiceHost::open(so, &open_error); });
    ASSERT_TRUE(host_) << open_error;
    ASSERT_EQ(host_->shard_count(), 2u);
    ASSERT_TRUE(host_->stacks().hands_over());
    // The kernel resolves us now: datagrams it held for ARP would leave from
    // the CPU that took the ARP reply, on that CPU's queue, not the sender's.
    const auto ping = topo_->kernel_ns().exec("ping -c1 -W2 10.77.0.1");
    ASSERT_TRUE(ping.ok()) << ping.output;
  }

  void TearDown() override {
    if (host_) {
      for (unsigned k = 0; k < 2; ++k) {
        host_->run_on(k, [this, k](StackDriver& d) {
          d.clear_apps();
          for (stack::UdpSock* sk : socks_[k]) d.stack().udp().close(sk);
        });
      }
      stop_and_check_all();
    }
    topo_.reset();
  }

  // Frame accounting after forwarding: on every queue the frames add up and
  // none is held by a stack (nor out on another shard: the rings are drained
  // by stop_services).
  void stop_and_check_all() {
    host_->stop_services();
    for (unsigned k = 0; k < 2; ++k) {
      xdp::XdpLink* link = &host_->link(k);
      const xdp::FrameCounts fc = host_->runtime().run_on(k, [link] {
        for (int i = 0; i < 200 && link->tx_in_flight() > 0; ++i) {
          link->kick();
          if (link->tx_in_flight() > 0) std::this_thread::sleep_for(5ms);
        }
        return link->frame_counts();
      });
      EXPECT_TRUE(fc.adds_up()) << "queue " << k;
      EXPECT_EQ(fc.stack, 0u) << "queue " << k;
    }
    topo_->xnet_ns().run([&] {
      (void)host_->stop();
      host_.reset();
    });
  }

  stack::UdpSock* open_on(unsigned shard, uint16_t port) {
    return host_->run_on(shard, [this, shard, port](StackDriver& d) {
      stack::UdpSock* sk = d.stack().udp().open();
      EXPECT_TRUE(d.stack().udp().bind(*sk, wire::Ipv4Addr(), port).ok());
      socks_[shard].push_back(sk);
      return sk;
    });
  }

  // Datagrams queued on `sk` (of `shard`), read out, until `n` arrived or 3 s passed.
  uint32_t read_on(unsigned shard, stack::UdpSock* sk, uint32_t n) {
    uint32_t got = 0;
    const auto until = std::chrono::steady_clock::now() + 3s;
    while (got < n && std::chrono::steady_clock::now() < until) {
      got += host_->run_on(shard, [sk](StackDriver& d) {
        uint32_t k = 0;
        std::vector<std::byte> buf(2048);
        while (stack::udp_recvmsg(d.stack(), *sk, buf)) ++k;
        return k;
      });
      if (got < n) std::this_thread::sleep_for(2ms);
    }
    return got;
  }

  stack::Stats stats_of(unsigned k) {
    return host_->run_on(k, [](StackDriver& d) { return d.stack().stats(); });
  }

  std::unique_ptr<netns::VethTopology> topo_;
  std::unique_ptr<ServiceHost> host_;
  std::array<std::vector<stack::UdpSock*>, 2> socks_;  // touched on their shard only
};


// A client socket on shard `client` talks to a kernel echo whose every reply
// leaves on queue `reply_queue`, the other shard's.
class XshardClient : public XshardE2e, public ::testing::WithParamInterface<std::pair<unsigned, int>> {};

TEST_P(XshardClient, ReceivesEveryReplyTheKernelSendsOnTheOtherQueue) {
  XNET_REQUIRE_PRIVILEGED();
  ASSERT_NO_FATAL_FAILURE(start());
  const auto [client, reply_queue] = GetParam();
  KernelUdp echo = KernelUdp::open(topo_->kernel_ns(), "10.77.0.2", 7000);
  ASSERT_TRUE(echo.valid());
  stack::UdpSock* sk = open_on(client, 0);
  // The requests (the first one waits for ARP: its reply may land on either
  // queue, and the shards share what their neighbour tables learn).
  host_->run_on(client, [sk](StackDriver& d) {
    const stack::SockAddrIn to{stack::kAfInet, {kKernelAddr, 7000}};
    for (uint32_t i = 0; i < kDatagrams; ++i) {
      const std::vector<std::byte> data = pattern(i, kSize);
      EXPECT_TRUE(stack::udp_sendmsg(d.stack(), *sk, data, &to, stack::SendOptions{}, rt::Reactor::now()).ok());
    }
  });
  on_cpu(reply_queue, [&] {
    std::vector<std::byte> buf(2048);
    for (uint32_t i = 0; i < kDatagrams; ++i) {
      sockaddr_in from{};
      const long n = echo.recv(buf, 3s, &from);
      ASSERT_EQ(n, static_cast<long>(kSize)) << "request " << i;
      ASSERT_EQ(sendto(echo.fd(), buf.data(), static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), sizeof from), n);
    }
  });
  EXPECT_EQ(read_on(client, sk, kDatagrams), kDatagrams);
  const stack::Stats landed = stats_of(static_cast<unsigned>(reply_queue));
  const stack::Stats owner = stats_of(client);
  EXPECT_EQ(landed.handoff.DatagramsOut, kDatagrams) << "the replies did not land on queue " << reply_queue;
  EXPECT_EQ(owner.handoff.DatagramsIn, kDatagrams);
  EXPECT_EQ(landed.udp.NoPorts + owner.udp.NoPorts, 0u);
  EXPECT_EQ(landed.handoff.RingFull + landed.handoff.NoFrame + owner.handoff.NoFrame, 0u);
}

INSTANTIATE_TEST_SUITE_P(BothWays, XshardClient,
                         ::testing::Values(std::pair<unsigned, int>{1, 0}, std::pair<unsigned, int>{0, 1}));

// A service on shard 0 only (an echo run after every poll of shard 0) serves
// kernel clients whose datagrams arrive on queue 0 and on queue 1.
TEST_F(XshardE2e, ServiceOnOneShardServesBothQueues) {
  XNET_REQUIRE_PRIVILEGED();
  ASSERT_NO_FATAL_FAILURE(start());
  stack::UdpSock* sk = open_on(0, 7001);
  host_->run_on(0, [sk](StackDriver& d) {
    d.add_app([sk](stack::Stack& s, rt::TimePoint now) {
      std::array<std::byte, 2048> buf;
      bool did = false;
      while (auto r = stack::udp_recvmsg(s, *sk, buf)) {
        const stack::SockAddrIn back{stack::kAfInet, r->source};
        (void)stack::udp_sendmsg(s, *sk, std::span(buf).first(r->size), &back, stack::SendOptions{}, now);
        did = true;
      }
      return did;
    });
  });
  std::array<KernelUdp, 2> clients = {KernelUdp::open(topo_->kernel_ns(), "10.77.0.2", 0),
                                      KernelUdp::open(topo_->kernel_ns(), "10.77.0.2", 0)};
  for (int q = 0; q < 2; ++q) {
    ASSERT_TRUE(clients[q].valid());
    on_cpu(q, [&] {
      for (uint32_t i = 0; i < kDatagrams; ++i) {
        ASSERT_EQ(clients[q].send_to(pattern(i, kSize), "10.77.0.1", 7001), static_cast<long>(kSize));
      }
    });
  }
  for (int q = 0; q < 2; ++q) {
    std::vector<std::byte> buf(2048);
    uint32_t got = 0;
    while (got < kDatagrams && clients[q].recv(buf, 3s) == static_cast<long>(kSize)) ++got;
    EXPECT_EQ(got, kDatagrams) << "replies to the client sending on queue " << q;
  }
  const stack::Stats s0 = stats_of(0), s1 = stats_of(1);
  EXPECT_EQ(s1.handoff.DatagramsOut, kDatagrams) << "queue 1's datagrams, handed to shard 0";
  EXPECT_EQ(s0.handoff.DatagramsIn, kDatagrams);
  EXPECT_EQ(s0.udp.NoPorts + s1.udp.NoPorts, 0u);
}

}  // namespace
}  // namespace xnet::e2e
