// Writes the seed corpus of every fuzz target (tests/fuzz/corpus/TARGET/),
// built from valid frames with the tests' own frame builders
// (tests/stack/support/frames.h), so no seed is hand-typed bytes. Run by
// scripts/fuzz_seeds.sh; the output is checked in.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/stack/support/frames.h"

namespace {

using namespace xnet::stack::support;

const MacAddr kHostMac = mac(1), kPeerMac = mac(2);
const Ipv4Addr kHost(10, 0, 0, 1), kPeer(10, 0, 0, 2);

void put(Bytes& b, std::initializer_list<int> v) {
  for (int x : v) b.push_back(static_cast<std::byte>(x));
}
void put16(Bytes& b, uint16_t v) { put(b, {v >> 8, v & 0xff}); }

Bytes ip_frame(const Ipv4Fields& f, const Bytes& payload, MacAddr dst = kHostMac) {
  return eth(dst, kPeerMac, kTypeIpv4, ipv4(f, payload));
}

Bytes udp_frame(uint16_t sport, uint16_t dport, size_t size, Ipv4Addr dst = kHost, MacAddr dmac = kHostMac) {
  Ipv4Fields f{.src = kPeer, .dst = dst};
  return ip_frame(f, udp(kPeer, dst, sport, dport, pattern(size)), dmac);
}

// An IPv4 header with `options` (padded to 4 bytes) and a correct checksum.
Bytes ipv4_with_options(Ipv4Fields f, Bytes options, const Bytes& payload) {
  while (options.size() % 4 != 0) options.push_back(std::byte{0});
  Bytes h;
  put(h, {0x40 | static_cast<int>((20 + options.size()) / 4), f.tos});
  put16(h, static_cast<uint16_t>(20 + options.size() + payload.size()));
  put16(h, f.id);
  put16(h, f.frag);
  put(h, {f.ttl, f.protocol, 0, 0});
  for (Ipv4Addr a : {f.src, f.dst}) {
    const uint32_t v = a.value();
    put(h, {static_cast<int>(v >> 24), static_cast<int>(v >> 16 & 0xff), static_cast<int>(v >> 8 & 0xff),
            static_cast<int>(v & 0xff)});
  }
  h.insert(h.end(), options.begin(), options.end());
  const uint16_t sum = naive_checksum(h);
  h[10] = static_cast<std::byte>(sum >> 8);
  h[11] = static_cast<std::byte>(sum & 0xff);
  h.insert(h.end(), payload.begin(), payload.end());
  return h;
}

// The fragments of one UDP datagram (`size` payload bytes) cut at `step`.
std::vector<Bytes> fragments(uint16_t id, uint16_t dport, size_t size, size_t step) {
  const Bytes dgram = udp(kPeer, kHost, 4000, dport, pattern(size));
  std::vector<Bytes> out;
  for (size_t off = 0; off < dgram.size(); off += step) {
    const size_t n = std::min(step, dgram.size() - off);
    const bool more = off + n < dgram.size();
    Ipv4Fields f{.src = kPeer, .dst = kHost, .id = id,
                 .frag = static_cast<uint16_t>((more ? 0x2000 : 0) | off / 8)};
    out.push_back(ip_frame(f, Bytes(dgram.begin() + off, dgram.begin() + off + n)));
  }
  return out;
}

// An ICMP error from the peer quoting a datagram the host sent 10.0.0.1:9 → 10.0.0.2:9.
Bytes icmp_error(uint8_t type, uint8_t code, uint32_t rest) {
  Ipv4Fields q{.src = kHost, .dst = kPeer};
  const Bytes quoted = ipv4(q, udp(kHost, kPeer, 9, 9, pattern(8)));
  Bytes m;
  put(m, {type, code, 0, 0});
  put16(m, static_cast<uint16_t>(rest >> 16));
  put16(m, static_cast<uint16_t>(rest & 0xffff));
  m.insert(m.end(), quoted.begin(), quoted.begin() + 28);
  const uint16_t sum = naive_checksum(m);
  m[2] = static_cast<std::byte>(sum >> 8);
  m[3] = static_cast<std::byte>(sum & 0xff);
  return ip_frame(Ipv4Fields{.src = kPeer, .dst = kHost, .protocol = 1}, m);
}

std::vector<Bytes> single_frames() {
  std::vector<Bytes> v;
  v.push_back(arp_frame(mac(0xff), arp_fields(kArpRequest, kPeerMac, kPeer, MacAddr(), kHost)));
  v.push_back(arp_frame(kHostMac, arp_fields(kArpReply, kPeerMac, kPeer, kHostMac, kHost)));
  v.push_back(udp_frame(4000, 7, 32));     // the wildcard server
  v.push_back(udp_frame(9, 9, 64));        // the connected socket
  v.push_back(udp_frame(4000, 11, 1400));  // the small receive buffer
  v.push_back(udp_frame(4000, 12345, 16)); // closed: port unreachable
  v.push_back(udp_frame(4000, 7, 16, Ipv4Addr(10, 0, 0, 255), mac(0xff)));  // subnet broadcast
  v.push_back(udp_frame(4000, 7, 16, Ipv4Addr(192, 0, 2, 7)));            // not ours: not forwarded
  v.push_back(ip_frame(Ipv4Fields{.src = kPeer, .dst = kHost, .protocol = 1}, icmp_echo(8, 1, 1, pattern(56))));
  v.push_back(icmp_error(3, 3, 0));     // port unreachable → ECONNREFUSED
  v.push_back(icmp_error(3, 4, 576));   // fragmentation needed
  v.push_back(icmp_error(11, 0, 0));    // time exceeded
  v.push_back(icmp_error(12, 0, 20u << 24));  // parameter problem
  Ipv4Fields f{.src = kPeer, .dst = kHost};
  Bytes rr = {std::byte{7}, std::byte{11}, std::byte{4}};  // record route, room for 2
  rr.resize(11);
  Bytes ts = {std::byte{68}, std::byte{12}, std::byte{5}, std::byte{0}};  // timestamp
  ts.resize(12);
  Bytes ra = {std::byte{148}, std::byte{4}, std::byte{0}, std::byte{0}};  // router alert
  for (const Bytes& opt : {rr, ts, ra}) {
    v.push_back(eth(kHostMac, kPeerMac, kTypeIpv4, ipv4_with_options(f, opt, udp(kPeer, kHost, 4000, 7, pattern(8)))));
  }
  auto frags = fragments(0x1234, 7, 3000, 1480);
  v.insert(v.end(), frags.begin(), frags.end());
  v.push_back(eth_vlan(kHostMac, kPeerMac, 5, kTypeIpv4, ipv4(f, udp(kPeer, kHost, 4000, 7, pattern(8)))));
  return v;
}

void write(const std::filesystem::path& dir, const std::string& name, const Bytes& b) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), b.size());
}

// frame_sequence_fuzzer: a role byte, then records [op][len16][frame] /
// [2][ms16] / [3][style].
void add_frame(Bytes& seq, const Bytes& f) {
  put(seq, {0});
  put16(seq, static_cast<uint16_t>(f.size()));
  seq.insert(seq.end(), f.begin(), f.end());
}
void add_advance(Bytes& seq, uint16_t ms) {
  put(seq, {2});
  put16(seq, ms);
}
void add_drain(Bytes& seq, uint8_t style) { put(seq, {3, style}); }

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  const std::filesystem::path root(argv[1]);
  const std::vector<Bytes> frames = single_frames();
  for (size_t i = 0; i < frames.size(); ++i) {
    write(root / "frame_fuzzer", "frame_" + std::to_string(i), frames[i]);
    // The same frame to a forwarding router (the last byte's bit 7; its low
    // bits pick the drain style).
    Bytes routed = frames[i];
    routed.push_back(std::byte{0x80});
    write(root / "frame_fuzzer", "routed_" + std::to_string(i), routed);
    // wire_fuzzer: selector 4 = Ethernet; 0 = IPv4, 3 = ARP behind it.
    Bytes w = {std::byte{4}};
    w.insert(w.end(), frames[i].begin(), frames[i].end());
    write(root / "wire_fuzzer", "eth_" + std::to_string(i), w);
    Bytes inner = {std::byte{eth_type(frames[i]) == kTypeArp ? uint8_t{3} : uint8_t{0}}};
    inner.insert(inner.end(), frames[i].begin() + 14, frames[i].end());
    write(root / "wire_fuzzer", "l3_" + std::to_string(i), inner);
  }

  // Sequences: a train in order, reversed, overlapping, never completed, and
  // a datagram to an unresolved peer with ARP answered late.
  auto frags = fragments(0x42, 7, 4000, 1480);
  Bytes in_order, reversed, overlap, incomplete;
  for (const Bytes& f : frags) add_frame(in_order, f);
  add_drain(in_order, 1);
  for (auto it = frags.rbegin(); it != frags.rend(); ++it) add_frame(reversed, *it);
  add_drain(reversed, 2);
  auto small = fragments(0x43, 7, 4000, 1000);
  for (const Bytes& f : frags) add_frame(overlap, f);
  for (const Bytes& f : small) add_frame(overlap, f);
  add_frame(incomplete, frags[0]);
  add_advance(incomplete, 31000);  // past the reassembly timeout: time exceeded
  add_frame(incomplete, frags[1]);
  Bytes arp_late;
  add_frame(arp_late, udp_frame(4000, 12345, 16));  // port unreachable needs the peer's MAC...
  add_advance(arp_late, 500);
  add_frame(arp_late, arp_frame(kHostMac, arp_fields(kArpReply, kPeerMac, kPeer, kHostMac, kHost)));
  Bytes echoes;
  for (int i = 0; i < 8; ++i) add_frame(echoes, frames[8]);  // ICMP rate limits
  add_advance(echoes, 1000);
  add_drain(echoes, 0);
  const std::pair<const char*, const Bytes*> seqs[] = {{"fragments_in_order", &in_order},
                                                        {"fragments_reversed", &reversed},
                                                        {"fragments_overlap", &overlap},
                                                        {"fragments_timeout", &incomplete},
                                                        {"arp_late", &arp_late},
                                                        {"echo_burst", &echoes}};
  for (const auto& [name, seq] : seqs) {
    for (uint8_t role : {0, 1}) {  // host, router
      Bytes b = {std::byte{role}};
      b.insert(b.end(), seq->begin(), seq->end());
      write(root / "frame_sequence_fuzzer", std::string(name) + (role ? "_router" : ""), b);
    }
  }

  // socket_api_fuzzer: [op][socket][operands...] (see its op table).
  const std::pair<const char*, Bytes> calls[] = {
      // send 100 bytes on the connected socket (socket 1), no flags
      {"send_connected", {std::byte{5}, std::byte{1}, std::byte{0}, std::byte{0}, std::byte{100}}},
      // UDP_CORK on socket 1, two sends, uncork
      {"cork", {std::byte{6}, std::byte{1}, std::byte{0}, std::byte{0}, std::byte{1},
                std::byte{5}, std::byte{1}, std::byte{0}, std::byte{0}, std::byte{200},
                std::byte{5}, std::byte{1}, std::byte{0}, std::byte{0}, std::byte{200},
                std::byte{6}, std::byte{1}, std::byte{0}, std::byte{0}, std::byte{0}}},
      // a 4000-byte send: fragmented
      {"fragmented", {std::byte{5}, std::byte{1}, std::byte{0}, std::byte{0x0f}, std::byte{0xa0}}},
      // UDP_SEGMENT 1000 via cmsg, 3000 bytes
      {"gso", {std::byte{5}, std::byte{1}, std::byte{32}, std::byte{0x0b}, std::byte{0xb8},
               std::byte{0x03}, std::byte{0xe8}}},
      // MSG_MORE then close the socket mid-cork
      {"close_mid_cork", {std::byte{5}, std::byte{1}, std::byte{2}, std::byte{0}, std::byte{50},
                          std::byte{1}, std::byte{0}, std::byte{1}}},
      // the peer sends 3000 bytes to port 7, then the host reads
      {"peer_sends", {std::byte{9}, std::byte{0}, std::byte{1}, std::byte{0x0b}, std::byte{0xb8},
                      std::byte{7}, std::byte{0}, std::byte{1}}},
      // send to an address nobody answers ARP for, then let the timers run
      {"arp_fails", {std::byte{5}, std::byte{0}, std::byte{128}, std::byte{0}, std::byte{64},
                     std::byte{5}, std::byte{3}, std::byte{8}, std::byte{0}, std::byte{255}}},
  };
  for (const auto& [name, b] : calls) write(root / "socket_api_fuzzer", name, b);
  std::printf("seeds written under %s\n", root.c_str());
  return 0;
}
