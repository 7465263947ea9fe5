// The wire parsers on their own: Ethernet, ARP, IPv4 (and its options), UDP,
// ICMP. Whatever a parser accepts must be self-consistent (every accessor
// stays inside the buffer, which ASan checks; lengths agree); the option
// walker and the option validator must agree on where options end.
//
// Input: a selector byte, then the bytes to parse.

#include <cstdio>
#include <cstdlib>
#include <span>

#include "stack/wire/arp.h"
#include "stack/wire/ethernet.h"
#include "stack/wire/icmp.h"
#include "stack/wire/ipv4.h"
#include "stack/wire/ipv4_options.h"
#include "stack/wire/udp.h"

namespace {

using namespace xnet::wire;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "wire fuzz invariant failed: %s\n", what);
  std::abort();
}

// Reads every field, so ASan sees each access.
template <typename T>
void touch(const T& v) {
  volatile auto sink = v;
  (void)sink;
}

void ipv4(std::span<const std::byte> b) {
  auto v = ConstIpv4View::checked(b);
  if (!v) return;
  if (v->header_len() < 20 || v->header_len() > v->size()) fail("IPv4 header length outside the buffer");
  if (v->total_len() > v->size()) fail("IPv4 total length past the buffer");
  touch(v->verify_checksum());
  touch(v->frag_offset());
  touch(v->src().value() ^ v->dst().value());
  if (v->payload().size() != v->total_len() - v->header_len()) fail("IPv4 payload length");
  size_t walked = 0;
  for (auto opt : v->option_range()) {
    touch(opt.type);
    ++walked;
    if (walked > 40) fail("more options than bytes");
  }
}

void udp(std::span<const std::byte> b) {
  auto v = ConstUdpView::checked(b);
  if (!v) return;
  touch(v->src_port());
  if (v->length() > v->size() || v->payload().size() + 8 != v->length()) fail("UDP length");
  touch(v->verify_checksum(Ipv4Addr(10, 0, 0, 1), Ipv4Addr(10, 0, 0, 2)));
}

void icmp(std::span<const std::byte> b) {
  auto v = ConstIcmpView::checked(b);
  if (!v) return;
  touch(v->type());
  touch(v->rest_of_header());
  touch(v->verify_checksum());
  if (v->data().size() + 8 != v->size()) fail("ICMP data length");
}

void arp(std::span<const std::byte> b) {
  auto v = ConstArpView::checked(b);
  if (!v) return;
  auto p = ArpPacket::parse(*v);
  if (p) touch(p->target_ip.value());
}

void ethernet(std::span<const std::byte> b) {
  auto v = ConstEthernetView::checked(b);
  if (!v) return;
  touch(v->payload_ethertype());
  if (v->header_len() + v->payload().size() != v->size()) fail("Ethernet payload length");
  if (v->has_vlan()) touch(v->vlan().vid);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::span<const std::byte> b(reinterpret_cast<const std::byte*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0: ipv4(b); break;
    case 1: udp(b); break;
    case 2: icmp(b); break;
    case 3: arp(b); break;
    default: ethernet(b); break;
  }
  return 0;
}
