// Broadcast and multicast end to end (issue 15, item 6): a kernel socket sends
// to 255.255.255.255, to the subnet broadcast and to a group an xnet socket
// joined, and that xnet socket receives all three through the steering
// program; once the group is left the program stops steering it.
//
//   [ns xnet]   xnet owns 10.77.0.1/24 (ServiceHost); a wildcard socket on 6000
//   [ns kernel] 10.77.0.2/24, `ethtool -K tx off`; one UDP socket with
//               SO_BROADCAST and IP_MULTICAST_IF 10.77.0.2 (which also picks
//               the interface for 255.255.255.255: there is no default route)
//
// Root only (tags no-sandbox); the namespaces go with the topology's
// destructor, on failure too. Every send is one datagram; every wait is bounded.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "stack/core/stack.h"
#include "stack/udp/udp_multicast.h"
#include "stack/udp/udp_recv.h"
#include "stack/udp/udp_table.h"
#include "tests/e2e/kernel_socket.h"
#include "host/service_host.h"
#include "tests/e2e/e2e_host.h"
#include "tests/netns/privileged.h"
#include "xdp/host/xdp_host.h"

namespace xnet::e2e {
namespace {

using namespace std::chrono_literals;

const wire::Ipv4Addr kXnetAddr(10, 77, 0, 1);
const wire::Ipv4Addr kKernelAddr(10, 77, 0, 2);
const wire::Ipv4Addr kGroup(239, 7, 7, 7);
constexpr uint16_t kPort = 6000;

class McastE2e : public ::testing::Test {
 protected:
  void start() {
    netns::VethOptions o;
    o.kernel_tx_checksum_off = true;
    std::string error;
    topo_ = netns::VethTopology::create(o, &error);
    ASSERT_TRUE(topo_) << error;

    ServiceOptions so = e2e_service_options(topo_->xnet_if(), wire::Ipv4Prefix{kXnetAddr, 24});
    std::string open_error;
    topo_->xnet_ns().run([&] { host_ = ServiceHost::open(so, &open_error); });
    ASSERT_TRUE(host_) << open_error;
    ifindex_ = host_->xdp().shard(0).ifindex;
    sk_ = on_stack(*host_, [&](stack::Stack& s) {
      stack::UdpSock* sk = s.udp().open();
      EXPECT_TRUE(s.udp().bind(*sk, wire::Ipv4Addr(), kPort).ok());
      return sk;
    });

    tx_ = KernelUdp::open(topo_->kernel_ns(), "10.77.0.2", 0);
    ASSERT_TRUE(tx_.valid());
    const int on = 1;
    ASSERT_EQ(setsockopt(tx_.fd(), SOL_SOCKET, SO_BROADCAST, &on, sizeof on), 0);
    in_addr ifaddr{};
    ifaddr.s_addr = htonl(kKernelAddr.value());
    ASSERT_EQ(setsockopt(tx_.fd(), IPPROTO_IP, IP_MULTICAST_IF, &ifaddr, sizeof ifaddr), 0);
  }

  void TearDown() override {
    if (host_) {
      on_stack(*host_, [&](stack::Stack& s) {
        if (sk_ != nullptr) s.udp().close(sk_);
      });
      stop_and_check(host_, topo_->xnet_ns());
    }
    tx_ = KernelUdp();
    topo_.reset();
  }

  long send(const std::string& ip, uint32_t seq) {
    const std::vector<std::byte> data = pattern(seq, 100);
    return tx_.send_to(data, ip, kPort);
  }

  // The next datagram on xnet's socket within `timeout`, or nullopt.
  std::optional<stack::RecvInfo> recv(std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto r = on_stack(*host_, [&](stack::Stack& s) {
        std::vector<std::byte> buf(2048);
        return stack::udp_recvmsg(s, *sk_, buf);
      });
      if (r) return *r;
      if (std::chrono::steady_clock::now() >= until) return std::nullopt;
      std::this_thread::sleep_for(5ms);
    }
  }

  std::vector<wire::Ipv4Addr> steered_groups() { return host_->xdp().interface().groups(); }

  std::unique_ptr<netns::VethTopology> topo_;
  std::unique_ptr<ServiceHost> host_;
  stack::UdpSock* sk_ = nullptr;  // touched on the shard thread only
  uint16_t ifindex_ = 0;
  KernelUdp tx_;
};

TEST_F(McastE2e, BroadcastsAndAJoinedGroupReachXnetUntilLeft) {
  XNET_REQUIRE_PRIVILEGED();
  ASSERT_NO_FATAL_FAILURE(start());
  // The stack's all-hosts join reached the steering program.
  EXPECT_EQ(steered_groups(), std::vector<wire::Ipv4Addr>{wire::kIpv4AllHosts});
  const auto join = on_stack(*host_, [&](stack::Stack& s) {
    return stack::udp_join_group(s, *sk_, {kGroup, wire::Ipv4Addr(), ifindex_});
  });
  ASSERT_TRUE(join.ok()) << join.error().message();
  EXPECT_EQ(steered_groups(), (std::vector<wire::Ipv4Addr>{wire::kIpv4AllHosts, kGroup}));

  const std::string targets[] = {"255.255.255.255", "10.77.0.255", "239.7.7.7", "224.0.0.1"};
  const wire::Ipv4Addr dsts[] = {wire::kIpv4Broadcast, wire::Ipv4Addr(10, 77, 0, 255), kGroup,
                                 wire::kIpv4AllHosts};
  for (uint32_t i = 0; i < 4; ++i) {
    SCOPED_TRACE(targets[i]);
    ASSERT_EQ(send(targets[i], i), 100);
    const auto r = recv(3s);
    ASSERT_TRUE(r) << "nothing reached xnet";
    EXPECT_EQ(r->size, 100u);
    EXPECT_EQ(r->source.addr, kKernelAddr);
    EXPECT_EQ(r->source.port, tx_.port());
    EXPECT_EQ(r->info.dst_addr, dsts[i]);
  }
  stack::Stats st = on_stack(*host_, [](stack::Stack& s) { return s.stats(); });
  EXPECT_EQ(st.ip_ext.InBcastPkts, 2u);
  EXPECT_EQ(st.ip_ext.InMcastPkts, 2u);
  EXPECT_EQ(st.udp.InDatagrams, 4u);
  EXPECT_EQ(st.udp.InErrors, 0u);

  // Left: the program no longer steers the group, so xnet never sees it.
  const auto leave = on_stack(*host_, [&](stack::Stack& s) {
    return stack::udp_leave_group(s, *sk_, {kGroup, wire::Ipv4Addr(), ifindex_});
  });
  ASSERT_TRUE(leave.ok());
  EXPECT_EQ(steered_groups(), std::vector<wire::Ipv4Addr>{wire::kIpv4AllHosts});
  const uint64_t receives = st.ip.InReceives;
  const uint64_t passed = host_->xdp().interface().counters().passed;
  ASSERT_EQ(send("239.7.7.7", 9), 100);
  EXPECT_FALSE(recv(300ms));
  st = on_stack(*host_, [](stack::Stack& s) { return s.stats(); });
  EXPECT_EQ(st.ip.InReceives, receives);
  EXPECT_EQ(st.dropped(stack::DropReason::kMulticastNotJoined), 0u);  // not even at L2
  EXPECT_GT(host_->xdp().interface().counters().passed, passed);
  // Broadcasts still arrive.
  ASSERT_EQ(send("255.255.255.255", 10), 100);
  EXPECT_TRUE(recv(3s));
}

}  // namespace
}  // namespace xnet::e2e
