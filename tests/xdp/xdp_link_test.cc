// XdpInterface + XdpLink on a veth pair between two namespaces (root).
// xnet owns 10.77.0.1 on the xnet side; the kernel side is 10.77.0.2; the
// xnet side's own kernel stack has 10.77.0.3, which must keep working.

#include <arpa/inet.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xdp/libxdp.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <thread>

#include "stack/core/packet.h"
#include "tests/netns/privileged.h"
#include "tests/xdp/frames.h"
#include "xdp/napi_threads.h"
#include "xdp/xdp_interface.h"
#include "xdp/xdp_link.h"

namespace xnet::xdp {
namespace {

using netns::CommandResult;
using netns::VethOptions;
using netns::VethTopology;

const wire::Ipv4Addr kOwned(10, 77, 0, 1);
const testing::Ip4 kOwnedIp = testing::ip4(10, 77, 0, 1);
const testing::Ip4 kKernelIp = testing::ip4(10, 77, 0, 2);

std::unique_ptr<VethTopology> make_topology(VethOptions o = {}) {
  o.xnet_side_kernel_addrs = {"10.77.0.3/24"};
  std::string error;
  auto t = VethTopology::create(o, &error);
  EXPECT_TRUE(t) << error;
  return t;
}

std::unique_ptr<XdpInterface> open_iface(const VethTopology& t) {
  XdpInterfaceConfig c;
  c.ifname = t.xnet_if();
  auto r = XdpInterface::open(c);
  EXPECT_TRUE(r) << r.message();
  if (!r) return nullptr;
  EXPECT_TRUE(r.value()->add_address(wire::Ipv4Prefix{kOwned, 24}));
  return std::move(r.value());
}

std::unique_ptr<XdpLink> open_link(XdpInterface& iface, uint32_t queue, XdpLinkConfig c = {}) {
  c.umem.frame_count = 1024;
  c.xsk.fill_size = c.xsk.comp_size = c.xsk.rx_size = c.xsk.tx_size = 512;
  auto r = XdpLink::create(iface, queue, c);
  EXPECT_TRUE(r) << r.message();
  return r ? std::move(r.value()) : nullptr;
}

std::vector<uint8_t> bytes_of(const stack::Packet& p) {
  const auto* b = reinterpret_cast<const uint8_t*>(p.data());
  return {b, b + p.size()};
}

// Receives until `want` frames or the deadline, bounded.
size_t drain(XdpLink& link, stack::PacketQueue& out, size_t want,
             std::chrono::milliseconds timeout = std::chrono::milliseconds(2000)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t total = 0;
  while (total < want && std::chrono::steady_clock::now() < deadline) {
    const size_t n = link.rx_burst(out, 64);
    total += n;
    if (n == 0) {
      pollfd p{link.fd(), POLLIN, 0};
      poll(&p, 1, 20);
    }
  }
  return total;
}

void wait_tx_done(XdpLink& link) {
  for (int i = 0; i < 200 && link.tx_in_flight() > 0; ++i) {
    link.kick();
    if (link.tx_in_flight() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(link.tx_in_flight(), 0u);
}

void expect_idle(XdpLink& link) {
  const FrameCounts c = link.frame_counts();
  EXPECT_TRUE(c.adds_up()) << "free " << c.free << " fill " << c.fill << " rx " << c.rx
                           << " stack " << c.stack << " tx " << c.tx << " cq " << c.completion
                           << " total " << c.total;
  EXPECT_EQ(c.stack, 0u);
  EXPECT_EQ(c.tx, 0u);
  EXPECT_EQ(c.completion, 0u);
  EXPECT_EQ(link.pool().in_use(), link.frames_held());
}

TEST(XdpLink, SteersOwnedArpAndIcmpAndPassesTheRest) {
  XNET_REQUIRE_PRIVILEGED();
  auto t = make_topology();
  ASSERT_TRUE(t);
  t->xnet_ns().run([&] {
    auto iface = open_iface(*t);
    ASSERT_TRUE(iface);
    EXPECT_EQ(iface->attach_mode(), AttachMode::kNative);
    auto link = open_link(*iface, 0);
    ASSERT_TRUE(link);
    EXPECT_EQ(link->bind_mode(), BindMode::kCopy);  // veth has no zero-copy

    // Nobody answers ARP for the owned address yet: the requests reach the XSK.
    t->kernel_ns().exec("ping -c1 -W1 10.77.0.1");
    // With a static neighbour entry the echo requests themselves arrive.
    const CommandResult neigh = t->kernel_ns().exec("ip neigh replace 10.77.0.1 lladdr " +
                                                    link->mac().to_string() + " dev " +
                                                    t->kernel_if() + " nud permanent");
    ASSERT_TRUE(neigh.ok()) << neigh.output;
    t->kernel_ns().exec("ping -c2 -i0.2 -W1 10.77.0.1");

    // Traffic for the kernel's own address on the xnet side still works.
    const CommandResult ping = t->kernel_ns().exec("ping -c2 -i0.2 -W2 10.77.0.3");
    EXPECT_TRUE(ping.ok()) << ping.output;

    stack::PacketQueue q;
    drain(*link, q, 1000, std::chrono::milliseconds(300));
    size_t arp = 0, echo = 0, total = q.size();
    while (!q.empty()) {
      stack::Packet p = q.pop_front();
      const auto f = testing::parse_frame(bytes_of(p));
      ASSERT_TRUE(f);
      if (f->ethertype == 0x0806) {
        EXPECT_EQ(f->arp_op, 1);
        EXPECT_EQ(f->arp_target, kOwnedIp);
        ++arp;
      } else {
        ASSERT_EQ(f->ethertype, 0x0800);
        EXPECT_EQ(f->ip_dst, kOwnedIp);
        EXPECT_EQ(f->ip_src, kKernelIp);
        EXPECT_EQ(f->ip_proto, 1);
        EXPECT_EQ(f->icmp_type, 8);
        ++echo;
      }
    }
    EXPECT_GE(arp, 1u);
    // 2, or 3 when the echo request queued behind the failed ARP is released
    // by the neighbour entry.
    EXPECT_GE(echo, 2u);
    EXPECT_LE(echo, 3u);
    const SteerCounters c = iface->counters();
    EXPECT_EQ(c.steered, total);
    EXPECT_GE(c.passed, 4u);  // ARP + 2 echo requests for 10.77.0.3, at least
    EXPECT_EQ(c.no_socket, 0u);
    EXPECT_EQ(c.malformed, 0u);

    expect_idle(*link);
  });
}

// A kernel UDP socket on the peer plus a packet socket that sees the bytes as
// they left the veth: a CHECKSUM_PARTIAL skb would be accepted by the kernel
// socket even with an unfinished sum, so the bytes are checked separately.
struct KernelReceiver {
  int udp = -1;
  int raw = -1;
  ~KernelReceiver() {
    if (udp >= 0) close(udp);
    if (raw >= 0) close(raw);
  }
};

std::unique_ptr<KernelReceiver> kernel_receiver(VethTopology& t, uint16_t port) {
  auto r = std::make_unique<KernelReceiver>();
  t.kernel_ns().run([&] {
    r->udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, "10.77.0.2", &a.sin_addr);
    EXPECT_EQ(bind(r->udp, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    const int big = 8 << 20;  // hundreds of small datagrams before the test reads them
    setsockopt(r->udp, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
    r->raw = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_IP));
    sockaddr_ll ll{};
    ll.sll_family = AF_PACKET;
    ll.sll_protocol = htons(ETH_P_IP);
    ll.sll_ifindex = static_cast<int>(if_nametoindex(t.kernel_if().c_str()));
    EXPECT_EQ(bind(r->raw, reinterpret_cast<sockaddr*>(&ll), sizeof(ll)), 0);
  });
  return r;
}

std::string recv_udp(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, 2000) != 1) return "<timeout>";
  char buf[2048];
  const ssize_t n = recv(fd, buf, sizeof(buf), 0);
  return n < 0 ? "<error>" : std::string(buf, static_cast<size_t>(n));
}

// The first captured UDP frame to `port`, or empty.
std::vector<uint8_t> capture_udp(int fd, uint16_t port) {
  for (int i = 0; i < 50; ++i) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 2000) != 1) break;
    uint8_t buf[2048];
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    std::vector<uint8_t> f(buf, buf + n);
    const auto parsed = testing::parse_frame(f);
    if (parsed && parsed->ip_proto == 17 && parsed->udp_dst_port == port) return f;
  }
  return {};
}

stack::Packet udp_packet(XdpLink& link, const VethTopology& t, const std::string& payload,
                         testing::UdpChecksum csum) {
  testing::UdpFrameSpec spec;
  spec.dst_mac = *testing::parse_mac(t.kernel_mac());
  spec.src_mac = link.mac().bytes();
  spec.src_ip = kOwnedIp;
  spec.dst_ip = kKernelIp;
  spec.src_port = 40000;
  spec.dst_port = 9000;
  spec.payload = payload;
  const std::vector<uint8_t> f = testing::build_udp_frame(spec, csum);
  stack::Packet p = stack::Packet::allocate(link.pool(), stack::kDefaultHeadroom);
  EXPECT_TRUE(p);
  std::memcpy(p.put(static_cast<uint16_t>(f.size())), f.data(), f.size());
  if (csum == testing::UdpChecksum::kPseudoHeader) {
    p.meta().csum_state = stack::ChecksumState::kPartial;
    p.meta().csum_start = static_cast<uint16_t>(p.headroom() + testing::kEthLen + testing::kIpLen);
    p.meta().csum_offset = testing::kUdpCsumOffset;
  }
  return p;
}

void send_and_check(XdpLink& link, VethTopology& t, testing::UdpChecksum csum,
                    const std::string& payload) {
  auto rx = kernel_receiver(t, 9000);
  stack::PacketQueue q;
  q.push_back(udp_packet(link, t, payload, csum));
  EXPECT_EQ(link.tx_burst(q), 1u);
  EXPECT_TRUE(q.empty());
  wait_tx_done(link);
  EXPECT_EQ(recv_udp(rx->udp), payload);
  const std::vector<uint8_t> wire = capture_udp(rx->raw, 9000);
  ASSERT_FALSE(wire.empty());
  EXPECT_TRUE(testing::udp_checksum_valid(wire)) << "checksum left unfinished";
}

// Broken IPv4 headers (version 5, IHL 4, a total length past the frame) for
// the owned address are steered: xnet's ip_rcv counts them, as the kernel
// would have (issue 15, item 7). Broken ones for another address stay the
// kernel's (malformed).
TEST(XdpLink, SteersBrokenHeadersForTheOwnedAddress) {
  XNET_REQUIRE_PRIVILEGED();
  auto t = make_topology();
  ASSERT_TRUE(t);
  t->xnet_ns().run([&] {
    auto iface = open_iface(*t);
    ASSERT_TRUE(iface);
    auto link = open_link(*iface, 0);
    ASSERT_TRUE(link);
    const auto dst_mac = testing::parse_mac(t->xnet_mac());
    ASSERT_TRUE(dst_mac);
    // version/IHL byte, total length, destination
    struct Broken {
      uint8_t vihl;
      uint16_t tot_len;
      testing::Ip4 dst;
    };
    const Broken frames[] = {{0x55, 28, kOwnedIp},
                             {0x44, 28, kOwnedIp},
                             {0x4f, 28, kOwnedIp},  // IHL 15: 60 bytes, longer than the frame
                             {0x55, 28, testing::ip4(10, 77, 0, 3)}};
    t->kernel_ns().run([&] {
      const int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_IP));
      ASSERT_GE(fd, 0);
      sockaddr_ll ll{};
      ll.sll_family = AF_PACKET;
      ll.sll_protocol = htons(ETH_P_IP);
      ll.sll_ifindex = static_cast<int>(if_nametoindex(t->kernel_if().c_str()));
      ll.sll_halen = 6;
      std::memcpy(ll.sll_addr, dst_mac->data(), 6);
      for (const Broken& b : frames) {
        uint8_t f[14 + 28] = {};
        std::memcpy(f, dst_mac->data(), 6);
        f[6] = 0x02;  // a locally administered source MAC
        f[12] = 0x08;
        uint8_t* ip = f + 14;
        ip[0] = b.vihl;
        ip[2] = static_cast<uint8_t>(b.tot_len >> 8);
        ip[3] = static_cast<uint8_t>(b.tot_len);
        ip[8] = 64;
        ip[9] = 17;
        std::memcpy(ip + 12, kKernelIp.data(), 4);
        std::memcpy(ip + 16, b.dst.data(), 4);
        ASSERT_EQ(sendto(fd, f, sizeof f, 0, reinterpret_cast<sockaddr*>(&ll), sizeof ll),
                  static_cast<ssize_t>(sizeof f));
      }
      close(fd);
    });
    stack::PacketQueue q;
    EXPECT_EQ(drain(*link, q, 3, std::chrono::milliseconds(1000)), 3u);
    q.clear();
    const SteerCounters c = iface->counters();
    EXPECT_EQ(c.steered, 3u);
    EXPECT_EQ(c.malformed, 1u);
    expect_idle(*link);
  });
}

TEST(XdpLink, TransmitsToKernelUdpSocket) {
  XNET_REQUIRE_PRIVILEGED();
  auto t = make_topology();
  ASSERT_TRUE(t);
  t->xnet_ns().run([&] {
    auto iface = open_iface(*t);
    ASSERT_TRUE(iface);
    auto link = open_link(*iface, 0);
    ASSERT_TRUE(link);
    // On veth (copy mode) the link sums in software unless metadata is asked for.
    EXPECT_EQ(link->tx_checksum_mode(), TxChecksumMode::kSoftware);
    EXPECT_FALSE(link->features().tx_checksum);
    EXPECT_EQ(link->mtu(), 1500u);
    EXPECT_EQ(link->mac().to_string(), t->xnet_mac());

    send_and_check(*link, *t, testing::UdpChecksum::kComplete, "complete checksum");
    send_and_check(*link, *t, testing::UdpChecksum::kPseudoHeader, "completed by the link");
    EXPECT_EQ(link->stats().tx_packets, 2u);
    expect_idle(*link);
  });
}

TEST(XdpLink, CopyModeTxMetadataIsCompletedByTheKernel) {
  XNET_REQUIRE_PRIVILEGED();
  auto t = make_topology();
  ASSERT_TRUE(t);
  t->xnet_ns().run([&] {
    auto iface = open_iface(*t);
    ASSERT_TRUE(iface);
    XdpLinkConfig c;
    c.xsk.tx_checksum = TxChecksumRequest::kTxMetadata;
    auto link = open_link(*iface, 0, c);
    ASSERT_TRUE(link);
    EXPECT_EQ(link->tx_checksum_mode(), TxChecksumMode::kKernelSoftware);
    EXPECT_TRUE(link->features().tx_checksum);
    send_and_check(*link, *t, testing::UdpChecksum::kPseudoHeader, "offloaded via tx metadata");
    expect_idle(*link);
  });
}

TEST(XdpLink, SoftwareChecksumWhenMetadataNotRequested) {
  XNET_REQUIRE_PRIVILEGED();
  auto t = make_topology();
  ASSERT_TRUE(t);
  t->xnet_ns().run([&] {
    auto iface = open_iface(*t);
    ASSERT_TRUE(iface);
    XdpLinkConfig c;
    c.xsk.tx_checksum = TxChecksumRequest::kSoftware;
    auto link = open_link(*iface, 0, c);
    ASSERT_TRUE(link);
    EXPECT_EQ(link->tx_checksum_mode(), TxChecksumMode::kSoftware);
    EXPECT_FALSE(link->features().tx_checksum);
    send_and_check(*link, *t, testing::UdpChecksum::kPseudoHeader, "completed by the link");
    expect_idle(*link);
  });
}

TEST(XdpLink, FrameAccountingAfterTraffic) {
  XNET_REQUIRE_PRIVILEGED();
  VethOptions o;
  o.kernel_tx_checksum_off = true;
  auto t = make_topology(o);
  ASSERT_TRUE(t);
  t->xnet_ns().run([&] {
    auto iface = open_iface(*t);
    ASSERT_TRUE(iface);
    auto link = open_link(*iface, 0);
    ASSERT_TRUE(link);
    auto rx = kernel_receiver(*t, 9000);

    // More than a batch and more than copy mode's 32 per kick.
    constexpr int kSends = 300;
    stack::PacketQueue q;
    for (int i = 0; i < kSends; ++i) {
      q.push_back(udp_packet(*link, *t, "n" + std::to_string(i), testing::UdpChecksum::kComplete));
    }
    size_t taken = 0;
    for (int i = 0; i < 100 && !q.empty(); ++i) {
      taken += link->tx_burst(q);
      link->kick();
    }
    EXPECT_EQ(taken, static_cast<size_t>(kSends));
    wait_tx_done(*link);
    int got = 0;
    while (got < kSends && recv_udp(rx->udp) != "<timeout>") ++got;
    EXPECT_EQ(got, kSends);

    // The kernel side sends to the owned address: frames land in the stack.
    ASSERT_TRUE(t->kernel_ns()
                    .exec("ip neigh replace 10.77.0.1 lladdr " + link->mac().to_string() +
                          " dev " + t->kernel_if() + " nud permanent")
                    .ok());
    const CommandResult send = t->kernel_ns().exec(
        "python3 -c 'import socket\n"
        "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
        "for i in range(200): s.sendto(b\"x%d\"%i,(\"10.77.0.1\",7000))'");
    ASSERT_TRUE(send.ok()) << send.output;
    stack::PacketQueue held;
    EXPECT_EQ(drain(*link, held, 200), 200u);
    FrameCounts c = link->frame_counts();
    EXPECT_TRUE(c.adds_up());
    EXPECT_EQ(c.stack, 200u);  // the application holds them
    size_t valid = 0;
    held.for_each([&](const stack::PacketMeta& m, const std::byte* frame) {
      const auto* b = reinterpret_cast<const uint8_t*>(frame) + m.head;
      valid += testing::udp_checksum_valid({b, m.len}) ? 1 : 0;
    });
    EXPECT_EQ(valid, 200u);  // tx off on the kernel side: complete sums
    held.clear();
    link->rx_burst(held, 0);  // refills the fill ring from the returned frames
    c = link->frame_counts();
    EXPECT_TRUE(c.adds_up());
    EXPECT_EQ(c.stack, 0u);
    expect_idle(*link);
    const auto st = link->xsk_statistics();
    ASSERT_TRUE(st);
    EXPECT_EQ(st->tx_invalid_descs, 0u);
    EXPECT_EQ(st->rx_dropped, 0u);
  });
}

TEST(XdpLink, MultiQueueOneSocketPerQueue) {
  XNET_REQUIRE_PRIVILEGED();
  VethOptions o;
  o.queues = 2;
  auto t = make_topology(o);
  ASSERT_TRUE(t);
  t->xnet_ns().run([&] {
    auto iface = open_iface(*t);
    ASSERT_TRUE(iface);
    ASSERT_EQ(iface->queue_count(), 2u);
    auto q0 = open_link(*iface, 0);
    auto q1 = open_link(*iface, 1);
    ASSERT_TRUE(q0 && q1);
    ASSERT_TRUE(t->kernel_ns()
                    .exec("ip neigh replace 10.77.0.1 lladdr " + q0->mac().to_string() +
                          " dev " + t->kernel_if() + " nud permanent")
                    .ok());
    // 64 sockets = 64 flows, spread over the two tx queues by hash.
    const CommandResult send = t->kernel_ns().exec(
        "python3 -c 'import socket\n"
        "for i in range(64):\n"
        "  s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
        "  s.sendto(b\"q\",(\"10.77.0.1\",7000+i))'");
    ASSERT_TRUE(send.ok()) << send.output;
    stack::PacketQueue a, b;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (a.size() + b.size() < 64 && std::chrono::steady_clock::now() < deadline) {
      if (q0->rx_burst(a, 64) + q1->rx_burst(b, 64) == 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
    EXPECT_EQ(a.size() + b.size(), 64u);
    EXPECT_GT(a.size(), 0u);
    EXPECT_GT(b.size(), 0u);
    EXPECT_EQ(iface->counters().steered, 64u);
  });
}

uint32_t attached_prog_id(const std::string& ifname) {
  uint32_t id = 0;
  const int ifindex = static_cast<int>(if_nametoindex(ifname.c_str()));
  if (ifindex == 0) return 0;
  bpf_xdp_query_id(ifindex, 0, &id);
  return id;
}

TEST(XdpInterface, DetachLeavesNothingAndTenCycles) {
  XNET_REQUIRE_PRIVILEGED();
  auto t = make_topology();
  ASSERT_TRUE(t);
  t->xnet_ns().run([&] {
    for (int i = 0; i < 10; ++i) {
      auto iface = open_iface(*t);
      ASSERT_TRUE(iface) << "cycle " << i;
      EXPECT_NE(attached_prog_id(t->xnet_if()), 0u);
      EXPECT_TRUE(iface->is_attached());
      auto link = open_link(*iface, 0);
      ASSERT_TRUE(link) << "cycle " << i;
      link.reset();
      iface.reset();
      EXPECT_EQ(attached_prog_id(t->xnet_if()), 0u) << "cycle " << i;
    }
  });
  const CommandResult show = t->xnet_ns().exec("ip link show " + t->xnet_if());
  EXPECT_EQ(show.output.find("xdp"), std::string::npos) << show.output;
}

TEST(XdpInterface, ReplacesStaleProgramButNotSomebodyElses) {
  XNET_REQUIRE_PRIVILEGED();
  auto t = make_topology();
  ASSERT_TRUE(t);
  t->xnet_ns().run([&] {
    const int ifindex = static_cast<int>(if_nametoindex(t->xnet_if().c_str()));
    // A crashed xnet: its program stays attached, nobody detaches it.
    xdp_program* stale = xdp_program__open_file("bpf/xnet_steer.bpf.o", "xdp", nullptr);
    ASSERT_EQ(libxdp_get_error(stale), 0);
    ASSERT_EQ(xdp_program__attach(stale, ifindex, XDP_MODE_NATIVE, 0), 0);
    const uint32_t stale_id = xdp_program__id(stale);
    xdp_program__close(stale);
    ASSERT_EQ(attached_prog_id(t->xnet_if()), stale_id);

    auto iface = open_iface(*t);
    ASSERT_TRUE(iface);
    EXPECT_NE(iface->program_id(), stale_id);
    EXPECT_EQ(attached_prog_id(t->xnet_if()), iface->program_id());
    iface.reset();
    EXPECT_EQ(attached_prog_id(t->xnet_if()), 0u);

    // Someone else's program: refused with EBUSY and left alone.
    xdp_program* other = xdp_program__open_file("tests/xdp/other_prog.bpf.o", "xdp", nullptr);
    ASSERT_EQ(libxdp_get_error(other), 0);
    ASSERT_EQ(xdp_program__attach(other, ifindex, XDP_MODE_NATIVE, 0), 0);
    XdpInterfaceConfig c;
    c.ifname = t->xnet_if();
    auto r = XdpInterface::open(c);
    EXPECT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::device_or_resource_busy);
    EXPECT_NE(r.message().find("not_xnet_pass"), std::string::npos) << r.message();
    EXPECT_EQ(attached_prog_id(t->xnet_if()), xdp_program__id(other));
    xdp_program__detach(other, ifindex, XDP_MODE_NATIVE, 0);
    xdp_program__close(other);
  });
}

// ROBUSTNESS case 50: somebody detaches the steering program under a running
// xnet (traffic silently stops), then deletes the interface.
TEST(XdpInterface, HealthSeesDetachAndReattachRestoresSteering) {
  XNET_REQUIRE_PRIVILEGED();
  auto t = make_topology();
  ASSERT_TRUE(t);
  t->xnet_ns().run([&] {
    auto iface = open_iface(*t);
    ASSERT_TRUE(iface);
    EXPECT_EQ(iface->health(), LinkHealth::kOk);
    ASSERT_TRUE(t->kernel_ns()
                    .exec("ip neigh replace 10.77.0.1 lladdr " + t->xnet_mac() + " dev " +
                          t->kernel_if() + " nud permanent")
                    .ok());
    ASSERT_TRUE(t->xnet_ns().exec("ip link set dev " + t->xnet_if() + " xdp off").ok());
    EXPECT_EQ(iface->health(), LinkHealth::kProgramDetached);
    EXPECT_EQ(attached_prog_id(t->xnet_if()), 0u);

    ASSERT_TRUE(iface->reattach()) << "re-attach";
    EXPECT_EQ(iface->health(), LinkHealth::kOk);
    EXPECT_EQ(attached_prog_id(t->xnet_if()), iface->program_id());
    // Steering works again with the same maps: owned traffic is counted.
    t->kernel_ns().exec("ping -c2 -i0.2 -W1 10.77.0.1");
    EXPECT_GE(iface->counters().no_socket, 2u);

    // Deleting the peer takes our end with it.
    ASSERT_TRUE(t->kernel_ns().exec("ip link del " + t->kernel_if()).ok());
    EXPECT_EQ(iface->health(), LinkHealth::kInterfaceGone);
    iface.reset();  // detaching from a gone interface is not an error
  });
}

TEST(XdpInterface, Errors) {
  XNET_REQUIRE_PRIVILEGED();
  VethOptions o;
  o.mtu = 3000;
  auto t = make_topology(o);
  ASSERT_TRUE(t);
  t->xnet_ns().run([&] {
    XdpInterfaceConfig c;
    c.ifname = "xnet-nonexist0";
    auto none = XdpInterface::open(c);
    EXPECT_EQ(none.error(), std::errc::no_such_device);
    EXPECT_NE(none.message().find("no such interface"), std::string::npos) << none.message();

    auto iface = open_iface(*t);
    ASSERT_TRUE(iface);
    auto q = XdpLink::create(*iface, 1);
    EXPECT_EQ(q.error(), std::errc::invalid_argument);
    EXPECT_NE(q.message().find("out of range"), std::string::npos) << q.message();

    // MTU 3000 does not fit a 2048-byte frame: without multi-buffer (as on a
    // driver that has none) refused, never truncated.
    XdpLinkConfig single;
    single.multi_buffer = MultiBuffer::kOff;
    auto big = XdpLink::create(*iface, 0, single);
    EXPECT_EQ(big.error(), std::errc::message_size);
    EXPECT_NE(big.message().find("4096"), std::string::npos) << big.message();
    EXPECT_NE(big.message().find("multi-buffer"), std::string::npos) << big.message();
    XdpLinkConfig lc;
    lc.umem.frame_size = 4096;
    lc.umem.frame_count = 256;
    lc.xsk.fill_size = lc.xsk.comp_size = lc.xsk.rx_size = lc.xsk.tx_size = 128;
    {
      auto fits = XdpLink::create(*iface, 0, lc);
      ASSERT_TRUE(fits) << fits.message();
      EXPECT_FALSE(fits.value()->jumbo());
    }
    // With multi-buffer (veth has it): 2048-byte chunks do not matter, the
    // link uses jumbo frames of 4096-byte chunks.
    lc.umem.frame_size = 2048;
    lc.jumbo_frame_count = 128;
    auto jumbo = XdpLink::create(*iface, 0, lc);
    ASSERT_TRUE(jumbo) << jumbo.message();
    EXPECT_TRUE(jumbo.value()->jumbo());
    EXPECT_GE(jumbo.value()->max_mtu(), 3000u);
  });
}

TEST(XdpInterface, OwnedTrafficWithoutSocketIsPassedAndCounted) {
  XNET_REQUIRE_PRIVILEGED();
  auto t = make_topology();
  ASSERT_TRUE(t);
  t->xnet_ns().run([&] {
    auto iface = open_iface(*t);
    ASSERT_TRUE(iface);
    ASSERT_TRUE(t->kernel_ns()
                    .exec("ip neigh replace 10.77.0.1 lladdr " + t->xnet_mac() + " dev " +
                          t->kernel_if() + " nud permanent")
                    .ok());
    t->kernel_ns().exec("ping -c2 -i0.2 -W1 10.77.0.1");
    const SteerCounters c = iface->counters();
    EXPECT_GE(c.no_socket, 2u);
    EXPECT_EQ(c.steered, 0u);
  });
}

// ROBUSTNESS case 45: the application holds every frame, the fill ring runs
// dry, the kernel drops and counts; once frames come back, receive recovers.
TEST(XdpLink, RecoversFromEmptyFillRing) {
  XNET_REQUIRE_PRIVILEGED();
  auto t = make_topology();
  ASSERT_TRUE(t);
  t->xnet_ns().run([&] {
    auto iface = open_iface(*t);
    ASSERT_TRUE(iface);
    XdpLinkConfig c;
    c.umem.frame_count = 64;
    c.xsk.fill_size = c.xsk.comp_size = c.xsk.rx_size = c.xsk.tx_size = 64;
    c.fill_target = 32;
    auto r = XdpLink::create(*iface, 0, c);
    ASSERT_TRUE(r) << r.message();
    XdpLink& link = *r.value();
    ASSERT_TRUE(t->kernel_ns()
                    .exec("ip neigh replace 10.77.0.1 lladdr " + link.mac().to_string() +
                          " dev " + t->kernel_if() + " nud permanent")
                    .ok());
    const std::string burst =
        "python3 -c 'import socket\n"
        "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
        "for i in range(100): s.sendto(b\"f\",(\"10.77.0.1\",7000))'";
    ASSERT_TRUE(t->kernel_ns().exec(burst).ok());
    stack::PacketQueue held;
    drain(link, held, 100, std::chrono::milliseconds(500));
    // The burst arrives before we read: the fill ring held 32 frames, the rest
    // was dropped by the kernel. Refilling took the other 32: none are free.
    EXPECT_EQ(held.size(), 32u);
    EXPECT_EQ(link.frame_counts().free, 0u);
    const auto st = link.xsk_statistics();
    ASSERT_TRUE(st);
    EXPECT_GT(st->rx_fill_ring_empty_descs + st->rx_dropped, 0u);

    held.clear();
    ASSERT_TRUE(t->kernel_ns().exec(burst).ok());
    stack::PacketQueue again;
    drain(link, again, 32, std::chrono::milliseconds(1000));
    EXPECT_GE(again.size(), 32u);
    again.clear();
    link.rx_burst(again, 0);
    EXPECT_TRUE(link.frame_counts().adds_up());
    EXPECT_EQ(link.frame_counts().stack, 0u);
  });
}

// Copy mode refuses a transmit (sendto: EAGAIN) while the XSK's own send
// buffer is full of skbs the peer has not freed yet; on veth with an XDP
// program on the peer those are freed by the peer's NAPI, later. A caller that
// only polls for receive from then on (a sender waiting for its send buffer,
// which is freed by exactly these completions) must still get the refused
// descriptors out: rx_burst kicks them. Deterministic: the peer's NAPI
// kthread shares our core and we run SCHED_FIFO, so skbs are freed only while
// we sleep, never during a kick loop.
// A burst five times the TX ring (and the completion ring as small): tx_burst
// fills the ring, kicks, reclaims completions and fills it again, and whatever
// it cannot place stays queued in order for the next burst; nothing is
// dropped or lost from the frame accounting while the rings are full.
TEST(XdpLink, BurstLargerThanTheRingsGoesOutWholeAndInOrder) {
  XNET_REQUIRE_PRIVILEGED();
  VethOptions o;
  o.kernel_tx_checksum_off = true;
  auto t = make_topology(o);
  ASSERT_TRUE(t);
  t->xnet_ns().run([&] {
    auto iface = open_iface(*t);
    ASSERT_TRUE(iface);
    XdpLinkConfig c;
    c.xsk.tx_size = 64;
    c.xsk.comp_size = 64;
    auto link = open_link(*iface, 0, c);
    ASSERT_TRUE(link);
    auto rx = kernel_receiver(*t, 9000);
    constexpr size_t kSends = 300;
    stack::PacketQueue q;
    for (size_t i = 0; i < kSends; ++i) {
      q.push_back(udp_packet(*link, *t, "seq " + std::to_string(i), testing::UdpChecksum::kComplete));
    }
    size_t taken = link->tx_burst(q);
    EXPECT_EQ(q.size(), kSends - taken);
    EXPECT_TRUE(link->frame_counts().adds_up());
    for (int i = 0; i < 1000 && !q.empty(); ++i) {
      link->kick();
      taken += link->tx_burst(q);
    }
    EXPECT_EQ(taken, kSends);
    wait_tx_done(*link);
    for (size_t i = 0; i < kSends; ++i) {
      ASSERT_EQ(recv_udp(rx->udp), "seq " + std::to_string(i));
    }
    EXPECT_EQ(link->stats().tx_packets, kSends);
    EXPECT_EQ(link->stats().tx_dropped, 0u);
    expect_idle(*link);
  });
}

// The kernel side with an XDP program (so veth queues frames for its NAPI)
// and its NAPI kthread pinned to `cpu`: a SCHED_FIFO thread of ours on that
// core holds the peer's receive off for as long as it does not sleep.
// Detaches the program on destruction.
class HeldOffPeer {
 public:
  HeldOffPeer(VethTopology& t, int cpu) : t_(t), cpu_(cpu) {
    t.kernel_ns().run([&] {
      ifindex_ = static_cast<int>(if_nametoindex(t.kernel_if().c_str()));
      pass_ = xdp_program__open_file("tests/xdp/other_prog.bpf.o", "xdp", nullptr);
      if (libxdp_get_error(pass_) != 0) pass_ = nullptr;
      if (pass_ != nullptr && xdp_program__attach(pass_, ifindex_, XDP_MODE_NATIVE, 0) != 0) {
        xdp_program__close(pass_);
        pass_ = nullptr;
      }
    });
    EXPECT_NE(pass_, nullptr) << "attaching an XDP program to the kernel side";
    if (pass_ == nullptr) return;
    EXPECT_TRUE(t.kernel_ns().exec("echo 1 > /sys/class/net/" + t.kernel_if() + "/threaded").ok());
    ok_ = pin_napi_threads(t.kernel_if(), cpu) > 0;
    EXPECT_TRUE(ok_) << "pinning the kernel side's NAPI kthreads";
  }
  ~HeldOffPeer() {
    if (pass_ == nullptr) return;
    t_.kernel_ns().run([&] {
      xdp_program__detach(pass_, ifindex_, XDP_MODE_NATIVE, 0);
      xdp_program__close(pass_);
    });
  }
  HeldOffPeer(const HeldOffPeer&) = delete;
  HeldOffPeer& operator=(const HeldOffPeer&) = delete;

  bool ok() const { return ok_; }

  // Runs fn in the xnet namespace as a SCHED_FIFO thread on the NAPI's core.
  void run_on_its_core(const std::function<void()>& fn) {
    t_.xnet_ns().run([&] {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(cpu_, &set);
      ASSERT_EQ(sched_setaffinity(0, sizeof set, &set), 0);
      sched_param fifo{};
      fifo.sched_priority = 1;
      ASSERT_EQ(sched_setscheduler(0, SCHED_FIFO, &fifo), 0);
      fn();
      sched_param other{};
      sched_setscheduler(0, SCHED_OTHER, &other);
    });
  }

 private:
  VethTopology& t_;
  int cpu_;
  xdp_program* pass_ = nullptr;
  int ifindex_ = 0;
  bool ok_ = false;
};

TEST(XdpLink, KicksRefusedTransmitsAgainFromReceivePolls) {
  XNET_REQUIRE_PRIVILEGED();
  auto t = make_topology();
  ASSERT_TRUE(t);
  HeldOffPeer peer(*t, 0);
  ASSERT_TRUE(peer.ok());

  peer.run_on_its_core([&] {
    auto iface = open_iface(*t);
    auto link = iface ? open_link(*iface, 0) : nullptr;
    if (link) {
      // The smallest XSK send buffer: a handful of skbs in flight.
      const int sndbuf = 1;
      EXPECT_EQ(setsockopt(link->fd(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf), 0);
      constexpr size_t kFrames = 64;
      stack::PacketQueue q;
      for (size_t i = 0; i < kFrames; ++i) {
        q.push_back(udp_packet(*link, *t, "deferred " + std::to_string(i), testing::UdpChecksum::kComplete));
      }
      EXPECT_EQ(link->tx_burst(q), kFrames);
      // The kernel took what its send buffer allows; the rest waits on the ring.
      EXPECT_GT(link->frame_counts().tx, 0u);
      // From here on only receive polls, with pauses in which the peer's NAPI
      // (and nothing else) can run.
      stack::PacketQueue rx;
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
      while (link->tx_in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
        link->rx_burst(rx, 64);
        rx.clear();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      EXPECT_EQ(link->tx_in_flight(), 0u) << "descriptors left on the TX ring with nobody to kick them";
      EXPECT_EQ(link->stats().tx_packets, kFrames);
      expect_idle(*link);
    }
  });
}

// A device that drops frames it was handed: veth when the peer's 256-entry
// NAPI ring is full (its NAPI kthread pinned under our SCHED_FIFO thread
// never runs). The kick answers EBUSY for each ("completed but not sent").
// Each drop is counted in LinkStats::tx_dropped, as many as the veth counts;
// and the link stops kicking for a while after a drop, so the frames behind
// wait on the TX ring instead of being dropped one per kick (the 600 s soak
// lost 605 frames this way in one host stall, every one a kick).
// Posts n UDP frames on the link's TX ring, the XSK's send buffer raised so
// that it never refuses before the peer's ring is full (EAGAIN).
void post_frames(XdpLink& link, VethTopology& t, const std::string& tag, size_t n) {
  const int sndbuf = 16 << 20;
  EXPECT_EQ(setsockopt(link.fd(), SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf), 0);
  stack::PacketQueue q;
  for (size_t i = 0; i < n; ++i) {
    q.push_back(udp_packet(link, t, tag + " " + std::to_string(i), testing::UdpChecksum::kComplete));
  }
  EXPECT_EQ(link.tx_burst(q), n);
}

// Polls with pauses in which the peer's NAPI runs until every frame has
// completed (bounded).
void drain_tx(XdpLink& link) {
  stack::PacketQueue rx;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (link.tx_in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    link.rx_burst(rx, 64);
    rx.clear();
  }
}

TEST(XdpLink, DeviceDropsAreCountedAndKicksBackOff) {
  XNET_REQUIRE_PRIVILEGED();
  auto t = make_topology();
  ASSERT_TRUE(t);
  HeldOffPeer peer(*t, 0);
  ASSERT_TRUE(peer.ok());
  // Only our frames may meet the full ring: the xnet side's own kernel stack
  // sends nothing of IPv6 (DAD, router solicitations, MLD) meanwhile.
  ASSERT_TRUE(t->xnet_ns().exec("sysctl -qw net.ipv6.conf." + t->xnet_if() + ".disable_ipv6=1").ok());
  auto veth_tx_dropped = [&] {
    CommandResult r = t->xnet_ns().exec("cat /sys/class/net/" + t->xnet_if() + "/statistics/tx_dropped");
    EXPECT_TRUE(r.ok()) << r.output;
    return r.ok() ? std::stoull(r.output) : 0;
  };
  const uint64_t veth_before = veth_tx_dropped();

  constexpr size_t kFrames = 500;  // 256 fill the peer's ring, the rest would be dropped
  uint64_t dropped_while_stalled = 0;
  stack::LinkStats after{};
  peer.run_on_its_core([&] {
    auto iface = open_iface(*t);
    auto link = iface ? open_link(*iface, 0) : nullptr;
    if (link) {
      post_frames(*link, *t, "stalled", kFrames);
      // 20 ms of polls (each one a kick opportunity) while the peer's NAPI
      // cannot run: without the back-off every remaining frame is dropped.
      stack::PacketQueue rx;
      const auto stall_end = std::chrono::steady_clock::now() + std::chrono::milliseconds(20);
      while (std::chrono::steady_clock::now() < stall_end) {
        link->rx_burst(rx, 64);
        rx.clear();
      }
      dropped_while_stalled = link->stats().tx_dropped;
      drain_tx(*link);  // the rest goes out
      EXPECT_EQ(link->tx_in_flight(), 0u) << "frames left on the TX ring after the stall";
      after = link->stats();
      expect_idle(*link);
    }
  });
  EXPECT_GE(dropped_while_stalled, 1u) << "the peer's ring never filled: nothing tested";
  EXPECT_LE(dropped_while_stalled, 30u) << "a drop per kick: no back-off";
  // A kick racing the peer's first NAPI run after the stall may still drop
  // one or two; nothing like the 244 behind.
  EXPECT_LE(after.tx_dropped, dropped_while_stalled + 4);
  EXPECT_EQ(after.tx_packets, kFrames);
  EXPECT_EQ(veth_tx_dropped() - veth_before, after.tx_dropped) << "a drop the link did not count";
}

// The pause after a drop ends as soon as the peer's NAPI has taken enough of
// our frames off its ring (their completions say so), not only when its time
// is up: a sender at line rate would otherwise idle up to kMaxKickBackoff
// after a drop while the peer's ring is already empty again.
TEST(XdpLink, KickBackOffEndsWhenTheDeviceQueueDrains) {
  XNET_REQUIRE_PRIVILEGED();
  auto t = make_topology();
  ASSERT_TRUE(t);
  HeldOffPeer peer(*t, 0);
  ASSERT_TRUE(peer.ok());
  ASSERT_TRUE(t->xnet_ns().exec("sysctl -qw net.ipv6.conf." + t->xnet_if() + ".disable_ipv6=1").ok());

  constexpr size_t kFrames = 500;  // 256 fill the peer's ring, the rest wait on the TX ring
  // The pause doubles from kMinKickBackoff with each drop in a row: after
  // these many it is kMaxKickBackoff.
  constexpr uint64_t kDropsToLongestPause = 8;
  uint64_t drops = 0;
  uint32_t pending_before = 0, pending_after = 0;
  std::chrono::nanoseconds waited{};
  stack::LinkStats after{};
  peer.run_on_its_core([&] {
    auto iface = open_iface(*t);
    auto link = iface ? open_link(*iface, 0) : nullptr;
    if (!link) return;
    post_frames(*link, *t, "paused", kFrames);
    // Polls while the peer's NAPI cannot run, stopping right after the drop
    // that made the pause its longest: by the clock alone, no kick comes for
    // kMaxKickBackoff from here.
    stack::PacketQueue rx;
    const auto stall_limit = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (link->stats().tx_dropped < kDropsToLongestPause && std::chrono::steady_clock::now() < stall_limit) {
      link->rx_burst(rx, 64);
      rx.clear();
    }
    const auto dropped_at = std::chrono::steady_clock::now();
    drops = link->stats().tx_dropped;
    pending_before = link->tx_ring_pending();
    // Short sleeps let the NAPI drain its ring; the poll that reclaims the
    // kResumeCompletions-th completion must kick the frames waiting on the
    // TX ring.
    const uint32_t in_flight = link->tx_in_flight();
    while (in_flight - link->tx_in_flight() < XdpLink::kResumeCompletions &&
           std::chrono::steady_clock::now() < dropped_at + std::chrono::seconds(1)) {
      std::this_thread::sleep_for(std::chrono::microseconds(50));
      link->rx_burst(rx, 64);
      rx.clear();
    }
    waited = std::chrono::steady_clock::now() - dropped_at;
    pending_after = link->tx_ring_pending();
    drain_tx(*link);  // the rest goes out, nothing is left behind
    EXPECT_EQ(link->tx_in_flight(), 0u);
    after = link->stats();
    expect_idle(*link);
  });
  ASSERT_GE(drops, kDropsToLongestPause) << "the peer's ring never filled: nothing tested";
  ASSERT_GT(pending_before, 0u) << "no frame waited on the TX ring: nothing tested";
  // Completions later than the pause would leave the clock as the only cause
  // of a kick: the machine was too slow to tell (the NAPI did not run for
  // milliseconds while this thread slept).
  if (waited >= XdpLink::kMaxKickBackoff - std::chrono::microseconds(200)) {
    GTEST_SKIP() << "the peer's NAPI ran only after " << waited.count() << " ns: cannot tell";
  }
  EXPECT_LT(pending_after, pending_before) << "completions arrived " << waited.count()
                                           << " ns into the pause and nothing was kicked";
  EXPECT_EQ(after.tx_packets, kFrames);
}

}  // namespace
}  // namespace xnet::xdp
