// Path MTU discovery end to end (issue 15): the Linux kernel forwards
// between xnet and a host behind a smaller MTU, and its "fragmentation
// needed" is what teaches xnet the path.
//
//   [ns x]  xnet owns 10.77.0.1/24 (ServiceHost), default route via 10.77.0.2
//   [ns k]  the router: 10.77.0.2/24 (MTU 1500), 10.78.0.1/24 (MTU 1000),
//           ip_forward=1
//   [ns b]  10.78.0.2/24 (MTU 1000), default route via 10.78.0.1; a kernel
//           UDP socket receives
//
// A DF datagram of 1500 bytes from xnet makes the router answer 3/4 with MTU
// 1000; xnet's error queue gets it (IP_RECVERR), the next DF send is EMSGSIZE
// with a local entry, and "want" sends then leave fragmented at 1000 and
// arrive whole. Root only (tags no-sandbox); every namespace is removed by its
// owner's destructor, on failure too.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "stack/core/stack.h"
#include "stack/udp/udp_output.h"
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
using netns::CommandResult;

const wire::Ipv4Addr kXnetAddr(10, 77, 0, 1);
const wire::Ipv4Addr kRouterAddr(10, 77, 0, 2);
const wire::Ipv4Addr kFarAddr(10, 78, 0, 2);
const std::string kFarIp = "10.78.0.2";
constexpr uint16_t kFarPort = 5000;
constexpr uint32_t kFarMtu = 1000;

// One counter of `nstat -az` output ("Name  value  rate" lines); -1 when absent.
long counter(const std::string& nstat, const std::string& name) {
  const size_t at = nstat.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::strtol(nstat.c_str() + at + 1 + name.size(), nullptr, 10);
}

class PmtuE2e : public ::testing::Test {
 protected:
  void start() {
    netns::VethOptions o;
    o.kernel_tx_checksum_off = true;
    std::string error;
    topo_ = netns::VethTopology::create(o, &error);
    ASSERT_TRUE(topo_) << error;
    static std::atomic<int> n{0};
    far_ = netns::Netns::create(netns::own_prefix() + "pmtu" + std::to_string(n++) + "-b", &error);
    ASSERT_TRUE(far_) << error;
    // The far link, created in the router's namespace with its peer put
    // straight into b's (names private to those two namespaces).
    const CommandResult r = topo_->kernel_ns().exec(
        "ip link add pmtu_r mtu 1000 type veth peer name pmtu_b mtu 1000 netns " + far_->name() +
        " && ip addr add 10.78.0.1/24 dev pmtu_r && ip link set pmtu_r up"
        " && ethtool -K pmtu_r tx off >/dev/null && sysctl -qw net.ipv4.ip_forward=1");
    ASSERT_TRUE(r.ok()) << r.output;
    const CommandResult b = far_->exec(
        "ip addr add 10.78.0.2/24 dev pmtu_b && ip link set pmtu_b up && ip route add default via 10.78.0.1");
    ASSERT_TRUE(b.ok()) << b.output;

    ServiceOptions so = e2e_service_options(topo_->xnet_if(), wire::Ipv4Prefix{kXnetAddr, 24});
    std::string open_error;
    topo_->xnet_ns().run([&] { host_ = ServiceHost::open(so, &open_error); });
    ASSERT_TRUE(host_) << open_error;
    ifindex_ = host_->xdp().shard(0).ifindex;
    const bool routed = on_stack(*host_, [&](stack::Stack& s) {
      return s.add_gateway_route(wire::Ipv4Prefix{wire::Ipv4Addr(), 0}, kRouterAddr, ifindex_).ok();
    });
    ASSERT_TRUE(routed);
  }

  void TearDown() override {
    if (host_) {
      on_stack(*host_, [&](stack::Stack& s) {
        if (sk_ != nullptr) s.udp().close(sk_);
      });
      stop_and_check(host_, topo_->xnet_ns());
    }
    far_.reset();  // takes pmtu_b and its peer with it
    topo_.reset();
  }

  Result<size_t> send(size_t n) {
    return on_stack(*host_, [&](stack::Stack& s) {
      const std::vector<std::byte> data = pattern(static_cast<uint32_t>(n), n);
      const stack::SockAddrIn dst{stack::kAfInet, {kFarAddr, kFarPort}};
      return stack::udp_sendmsg(s, *sk_, data, &dst, {}, std::chrono::steady_clock::now());
    });
  }

  // The next error-queue entry, waiting up to `timeout` for one.
  Result<stack::SockError> wait_error(std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto e = on_stack(*host_, [&](stack::Stack&) { return stack::udp_recv_error(*sk_); });
      if (e || std::chrono::steady_clock::now() >= until) return e;
      std::this_thread::sleep_for(5ms);
    }
  }

  std::unique_ptr<netns::VethTopology> topo_;
  std::unique_ptr<netns::Netns> far_;
  std::unique_ptr<ServiceHost> host_;
  stack::UdpSock* sk_ = nullptr;  // touched on the shard thread only
  uint16_t ifindex_ = 0;
};

TEST_F(PmtuE2e, RouterFragNeededTeachesThePathAndWantSendsArriveFragmented) {
  XNET_REQUIRE_PRIVILEGED();
  ASSERT_NO_FATAL_FAILURE(start());
  KernelUdp rx = KernelUdp::open(*far_, kFarIp, kFarPort);
  ASSERT_TRUE(rx.valid());
  sk_ = on_stack(*host_, [&](stack::Stack& s) {
    stack::UdpSock* sk = s.udp().open();
    EXPECT_TRUE(s.udp().bind(*sk, kXnetAddr, 0).ok());
    stack::udp_set_pmtudisc(*sk, stack::PmtuDisc::kDo);
    stack::udp_set_recverr(*sk, true);
    return sk;
  });

  // 1472 bytes fit xnet's link: out with DF; the router cannot forward it.
  ASSERT_TRUE(send(1472).ok());
  Result<stack::SockError> e = wait_error(3s);
  ASSERT_TRUE(e.ok()) << "no frag-needed from the router";
  EXPECT_EQ(e->err, std::errc::message_size);
  EXPECT_EQ(e->origin, stack::ErrOrigin::kIcmp);
  EXPECT_EQ(e->type, 3);
  EXPECT_EQ(e->code, 4);
  EXPECT_EQ(e->info, kFarMtu);
  EXPECT_EQ(e->offender, kRouterAddr);
  EXPECT_EQ(e->dest_addr, kFarAddr);
  EXPECT_EQ(e->dest_port, kFarPort);

  // "do": over the learned MTU is EMSGSIZE, with a local entry saying it.
  const Result<size_t> big = send(1472);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error(), std::errc::message_size);
  e = wait_error(0ms);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->origin, stack::ErrOrigin::kLocal);
  EXPECT_EQ(e->info, kFarMtu);
  ASSERT_TRUE(send(972).ok());  // fits: sent with DF, and arrives
  std::vector<std::byte> buf(4096);
  EXPECT_EQ(rx.recv(buf, 3s), 972);

  // "want": fragmented at 1000 by xnet, reassembled by b's kernel.
  on_stack(*host_, [&](stack::Stack&) { stack::udp_set_pmtudisc(*sk_, stack::PmtuDisc::kWant); });
  ASSERT_TRUE(send(1472).ok());
  const long got = rx.recv(buf, 3s);
  ASSERT_EQ(got, 1472);
  const std::vector<std::byte> want = pattern(1472, 1472);
  EXPECT_TRUE(std::equal(want.begin(), want.end(), buf.begin()));
  const stack::Stats st = on_stack(*host_, [](stack::Stack& s) { return s.stats(); });
  EXPECT_EQ(st.ip.FragOKs, 1u);
  EXPECT_EQ(st.ip.FragCreates, 2u);
  EXPECT_EQ(st.icmp.InDestUnreachs, 1u);
  EXPECT_EQ(st.icmp.InErrors, 0u);
  // The router refused once (the first DF datagram) and never again: the
  // "want" datagram left xnet as fragments that fit.
  const CommandResult snmp = topo_->kernel_ns().exec("nstat -az IpFragFails IcmpOutDestUnreachs");
  ASSERT_TRUE(snmp.ok()) << snmp.output;
  EXPECT_EQ(counter(snmp.output, "IpFragFails"), 1) << snmp.output;
  EXPECT_EQ(counter(snmp.output, "IcmpOutDestUnreachs"), 1) << snmp.output;
}

}  // namespace
}  // namespace xnet::e2e
