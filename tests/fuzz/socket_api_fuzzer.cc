// Sequences of socket calls on the host stack — open/close, bind, connect,
// disconnect, sendmsg of 0..70,000 bytes with MSG_MORE, UDP_CORK, UDP_SEGMENT,
// TTL/TOS/PKTINFO cmsgs and PMTU modes, reads, clock advances, datagrams from
// the peer — with closing mid-cork among them. Every frame the host puts on
// the wire must be valid IPv4 (checked with this file's own parser, not
// stack/wire): header checksum, lengths, fragment geometry, one ID per
// fragmented datagram, a valid UDP checksum on whole datagrams. Then every
// resource must come back (fuzz_net.h).

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <vector>

#include "stack/udp/udp_output.h"
#include "stack/udp/udp_recv.h"
#include "stack/udp/udp_table.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/fuzz_net.h"
#include "tests/stack/support/frames.h"

namespace {

using namespace xnet;
using namespace xnet::stack;
using fuzz::fail;
using fuzz::FuzzInput;
using fuzz::FuzzNet;
using wire::Ipv4Addr;

uint16_t be16(const std::byte* p) { return static_cast<uint16_t>(std::to_integer<uint16_t>(p[0]) << 8 | std::to_integer<uint16_t>(p[1])); }

// Checks one frame the host sent; `frag_id` follows a fragmented datagram
// across frames (fragments leave in order).
void check_frame(const support::Bytes& f, std::optional<uint16_t>& frag_id) {
  if (f.size() < 14) fail("runt frame");
  const uint16_t type = be16(f.data() + 12);
  if (type == support::kTypeArp) {
    if (f.size() < 14 + 28) fail("short ARP");
    return;
  }
  if (type != support::kTypeIpv4) fail("unknown EtherType sent");
  std::span<const std::byte> ip(f.data() + 14, f.size() - 14);
  if (ip.size() < 20) fail("short IPv4 header");
  const size_t ihl = (std::to_integer<size_t>(ip[0]) & 0xf) * 4;
  if ((std::to_integer<int>(ip[0]) >> 4) != 4 || ihl < 20 || ihl > ip.size()) fail("bad IPv4 version/IHL");
  if (support::naive_checksum(ip.first(ihl)) != 0) fail("bad IPv4 header checksum");
  const size_t total = be16(ip.data() + 2);
  if (total < ihl || total > ip.size()) fail("IPv4 total length");
  if (ip.size() > total && f.size() > 60) fail("bytes after the IPv4 datagram (beyond padding)");
  const uint16_t frag = be16(ip.data() + 6);
  const bool mf = (frag & 0x2000) != 0;
  const size_t offset = size_t{frag & 0x1fffu} * 8;
  const uint16_t id = be16(ip.data() + 4);
  const size_t data = total - ihl;
  if ((frag & 0x8000) != 0) fail("reserved fragment flag set");
  if (offset + data > 65535) fail("fragment past 64 KiB");
  if (mf && data % 8 != 0) fail("non-final fragment not a multiple of 8 bytes");
  if (mf || offset != 0) {
    if (offset == 0) {
      frag_id = id;
    } else if (!frag_id || *frag_id != id) {
      fail("fragments of one datagram with different IDs");
    }
    if (!mf) frag_id.reset();
    return;
  }
  frag_id.reset();
  const uint8_t proto = std::to_integer<uint8_t>(ip[9]);
  if (proto != 17) return;  // ICMP errors and the like: the header checks suffice
  std::span<const std::byte> udp = ip.subspan(ihl, data);
  if (udp.size() < 8 || be16(udp.data() + 4) != udp.size()) fail("UDP length");
  if (be16(udp.data() + 6) == 0) return;  // SO_NO_CHECK
  // Pseudo-header: addresses, protocol, UDP length.
  std::vector<std::byte> pseudo(ip.begin() + 12, ip.begin() + 20);
  pseudo.push_back(std::byte{0});
  pseudo.push_back(std::byte{17});
  pseudo.push_back(static_cast<std::byte>(udp.size() >> 8));
  pseudo.push_back(static_cast<std::byte>(udp.size() & 0xff));
  const uint16_t sum = support::naive_checksum(udp, static_cast<uint32_t>(0xffff & ~support::naive_checksum(pseudo)));
  if (sum != 0) fail("bad UDP checksum");
}

Ipv4Addr pick_addr(uint8_t v) {
  switch (v % 7) {
    case 0: return Ipv4Addr();                // wildcard
    case 1: return Ipv4Addr(10, 0, 0, 1);     // ours
    case 2: return Ipv4Addr(10, 0, 0, 2);     // the peer
    case 3: return Ipv4Addr(10, 0, 0, 255);   // subnet broadcast
    case 4: return Ipv4Addr(224, 0, 0, 1);    // multicast
    case 5: return Ipv4Addr(10, 0, 0, 77);    // on link, nobody answers ARP
    default: return Ipv4Addr(192, 0, 2, 1);   // no route
  }
}

uint16_t pick_port(uint8_t v) {
  static constexpr uint16_t kPorts[] = {0, 7, 9, 11, 5000, 65535};
  return kPorts[v % 6];
}

void set_option(FuzzNet& net, UdpSock& sk, FuzzInput& in) {
  const uint8_t which = in.u8();
  const uint16_t v = in.u16();
  switch (which % 12) {
    case 0: (void)udp_set_cork(net.host(), sk, v & 1, net.now()); break;
    case 1: (void)udp_set_gso_size(sk, static_cast<int>(v) - 8); break;
    case 2: udp_set_pmtudisc(sk, static_cast<PmtuDisc>(v % 4)); break;
    case 3: (void)udp_set_ttl(sk, static_cast<int>(v % 258) - 1); break;
    case 4: (void)udp_set_tos(sk, static_cast<int>(v % 257)); break;
    case 5: udp_set_broadcast(sk, v & 1); break;
    case 6: udp_set_no_check_tx(sk, v & 1); break;
    case 7: (void)udp_set_sndbuf(sk, static_cast<int>(v) * 8); break;
    case 8:
      (void)udp_set_rcvbuf(sk, static_cast<int>(v) * 8);
      net.rcvbuf_changed(sk);
      break;
    case 9: udp_set_recverr(sk, v & 1); break;
    case 10: (void)udp_set_multicast_ttl(sk, static_cast<int>(v % 257) - 1); break;
    default: udp_set_dont_route(sk, v & 1); break;
  }
}

void send(FuzzNet& net, UdpSock& sk, FuzzInput& in) {
  const uint8_t f = in.u8();
  size_t size = in.u16();
  if (f & 1) size += in.u8() * 20;  // up to 70,635: past the 65,507 limit
  SendOptions o;
  o.more = (f & 2) != 0;
  o.dont_route = (f & 4) != 0;
  if (f & 8) o.ttl = static_cast<int>(in.u16() % 300) - 10;
  if (f & 16) o.tos = static_cast<int>(in.u16() % 300) - 10;
  if (f & 32) o.gso_size = in.u16();
  if (f & 64) {
    o.source = pick_addr(in.u8());
    o.ifindex = in.u8() % 3;
  }
  static std::vector<std::byte> payload(70000 + 255 * 20, std::byte{0x5a});
  SockAddrIn dest{};
  const bool to_peer = (f & 128) != 0;
  if (to_peer) {
    dest.family = kAfInet;
    dest.to.addr = pick_addr(in.u8());
    dest.to.port = pick_port(in.u8());
  }
  (void)udp_sendmsg(net.host(), sk, std::span(payload).first(size), to_peer ? &dest : nullptr, o, net.now());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzInput in(data, size);
  FuzzNet net;
  UdpSock* peer = net.peer().udp().open();
  (void)net.peer().udp().bind(*peer, {}, 5000);
  std::optional<uint16_t> frag_id;
  for (int ops = 0; !in.empty() && ops < 64; ++ops) {
    const uint8_t op = in.u8();
    auto& socks = net.sockets();
    UdpSock* sk = socks.empty() ? nullptr : socks[in.u8() % socks.size()];
    switch (op % 10) {
      case 0: if (socks.size() < 16) net.open_socket(); break;
      case 1: net.close_socket(in.u8() % (socks.size() + 1)); break;
      case 2: if (sk) (void)net.host().udp().bind(*sk, pick_addr(in.u8()), pick_port(in.u8())); break;
      case 3: if (sk) (void)net.host().udp().connect(*sk, pick_addr(in.u8()), pick_port(in.u8())); break;
      case 4: if (sk) net.host().udp().disconnect(*sk); break;
      case 5: if (sk) send(net, *sk, in); break;
      case 6: if (sk) set_option(net, *sk, in); break;
      case 7: net.drain(in.u8()); break;
      case 8: net.advance(std::chrono::milliseconds(in.u8() * 16)); break;
      default: {  // the peer sends to one of the host's ports (fragmented when large)
        static std::vector<std::byte> payload(65507, std::byte{0xa5});
        SockAddrIn to{};
        to.family = kAfInet;
        to.to.addr = Ipv4Addr(10, 0, 0, 1);
        to.to.port = pick_port(in.u8());
        (void)udp_sendmsg(net.peer(), *peer, std::span(payload).first(in.u16() % payload.size()), &to, {},
                          net.now());
        break;
      }
    }
    net.net().run();
    for (const support::Bytes& f : net.net().sent(0)) check_frame(f, frag_id);
    net.check();
  }
  (void)net.net().sent(0);
  net.peer().udp().close(peer);
  net.settle();
  return 0;
}
