// Shared mode through the host library (issue 18): the kernel keeps
// 10.87.0.1/24 on the xnet end of the veth and xnet serves UDP on it
// (ServiceOptions::shared). An xnet client socket gets ECONNREFUSED from the
// kernel peer's port unreachable (an ICMP error steered by its quoted source
// port); its peer's MAC comes from the kernel's neighbour table; while the
// socket holds its port the port is in the steering map and no kernel socket
// can bind it; closed, both are undone; a gateway route added to and deleted
// from the kernel's table is followed; stopped, no program is left. Root
// only (tags no-sandbox); the namespaces go with the topology, on failure too.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "host/service_host.h"
#include "stack/core/stack.h"
#include "stack/l2/neighbour_table.h"
#include "stack/udp/udp_output.h"
#include "stack/udp/udp_recv.h"
#include "stack/udp/udp_table.h"
#include "tests/e2e/e2e_host.h"
#include "tests/netns/privileged.h"
#include "xdp/xdp_program.h"

namespace xnet::e2e {
namespace {

using namespace std::chrono_literals;

const wire::Ipv4Addr kShared(10, 87, 0, 1);
const wire::Ipv4Addr kPeer(10, 87, 0, 2);
constexpr uint16_t kClosedPort = 9;

// errno of a kernel UDP bind to 10.87.0.1:port in the xnet namespace (0: bound).
int kernel_bind(netns::Netns& ns, uint16_t port) {
  int err = -1;
  ns.run([&] {
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(kShared.value());
    err = ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 ? 0 : errno;
    ::close(fd);
  });
  return err;
}

TEST(SharedE2e, ClientGetsRefusedResolvesThroughKernelAndHoldsItsPort) {
  XNET_REQUIRE_PRIVILEGED();
  netns::VethOptions o;
  o.kernel_tx_checksum_off = true;
  o.kernel_side_addrs = {"10.87.0.2/24"};
  o.xnet_side_kernel_addrs = {"10.87.0.1/24"};
  std::string error;
  auto topo = netns::VethTopology::create(o, &error);
  ASSERT_TRUE(topo) << error;

  ServiceOptions so = e2e_service_options(topo->xnet_if(), wire::Ipv4Prefix{});
  so.shared = true;
  std::unique_ptr<ServiceHost> host;
  topo->xnet_ns().run([&] { host = ServiceHost::open(so, &error); });
  ASSERT_TRUE(host) << error;
  ASSERT_EQ(host->xdp().addresses().size(), 1u);
  EXPECT_EQ(host->xdp().addresses()[0].addr, kShared);
  EXPECT_EQ(host->xdp().addresses()[0].len, 24);
  const uint16_t ifindex = host->xdp().shard(0).ifindex;
  const uint32_t kernel_ifindex = host->xdp().interface().ifindex();

  // A connected client socket: its ephemeral port is claimed (map + kernel).
  stack::UdpSock* sk = nullptr;
  uint16_t port = 0;
  ASSERT_TRUE(on_stack(*host, [&](stack::Stack& s) {
    sk = s.udp().open();
    if (!s.udp().connect(*sk, kPeer, kClosedPort)) return false;
    port = sk->local_port;
    return true;
  }));
  ASSERT_NE(port, 0);
  const std::vector<uint16_t> steered = host->xdp().interface().steered_ports();
  EXPECT_NE(std::find(steered.begin(), steered.end(), port), steered.end()) << "port " << port << " not steered";
  EXPECT_EQ(kernel_bind(topo->xnet_ns(), port), EADDRINUSE) << "a kernel socket bound xnet's port " << port;

  // The kernel peer has no socket on 9: its port unreachable comes back,
  // steered by the quoted source port, as ECONNREFUSED on the socket. The
  // datagram could leave only once xnet had the peer's MAC from the kernel.
  std::errc got{};
  for (int attempt = 0; attempt < 30 && got == std::errc{}; ++attempt) {
    got = on_stack(*host, [&](stack::Stack& s) {
      if (attempt % 10 == 0) {
        const std::byte b[4] = {};
        (void)stack::udp_sendmsg(s, *sk, b, nullptr, {}, std::chrono::steady_clock::now());
      }
      return stack::udp_sock_error(*sk);
    });
    if (got == std::errc{}) std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(got, std::errc::connection_refused);
  const auto neigh = on_stack(*host, [&](stack::Stack& s) { return s.neighbours().lookup(ifindex, kPeer); });
  ASSERT_TRUE(neigh.has_value());
  EXPECT_EQ(neigh->mac.to_string(), topo->kernel_mac());
  EXPECT_NE(host->steer_text().find("NeighLearned"), std::string::npos);

  // A gateway route the kernel gains through the interface is followed, and
  // so is its removal.
  const wire::Ipv4Prefix far{wire::Ipv4Addr(10, 99, 0, 0), 16};
  auto route_via = [&]() {
    return on_stack(*host, [&](stack::Stack& s) {
      const auto r = s.routes().exact(far);
      return r ? r->gateway : wire::Ipv4Addr();
    });
  };
  auto wait_route = [&](wire::Ipv4Addr want) {
    for (int i = 0; i < 40 && route_via() != want; ++i) std::this_thread::sleep_for(50ms);
    return route_via();
  };
  ASSERT_TRUE(topo->xnet_ns().exec("ip route add 10.99.0.0/16 via 10.87.0.2").ok());
  EXPECT_EQ(wait_route(kPeer), kPeer) << "the kernel's new route was not followed";
  ASSERT_TRUE(topo->xnet_ns().exec("ip route del 10.99.0.0/16 via 10.87.0.2").ok());
  EXPECT_EQ(wait_route(wire::Ipv4Addr()), wire::Ipv4Addr()) << "the kernel's deleted route is still in xnet";

  // Closed: the map entry goes and the kernel may bind the port again.
  on_stack(*host, [&](stack::Stack& s) { s.udp().close(sk); });
  const std::vector<uint16_t> after = host->xdp().interface().steered_ports();
  EXPECT_EQ(std::find(after.begin(), after.end(), port), after.end()) << "port " << port << " still steered";
  EXPECT_EQ(kernel_bind(topo->xnet_ns(), port), 0);

  stop_and_check(host, topo->xnet_ns());
  bool left = true;
  topo->xnet_ns().run([&] { left = xdp::XdpProgram::xnet_program_on(kernel_ifindex); });
  EXPECT_FALSE(left) << "an XDP program is left on the interface";
}

}  // namespace
}  // namespace xnet::e2e
