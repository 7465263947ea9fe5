#pragma once
// The peer's own frame vocabulary: a small builder for the frames it injects
// and a dissector that turns every captured frame into named fields. Written
// from the RFCs, deliberately independent of stack/wire, so a bug in xnet's
// parser or writer cannot hide itself in the judge.

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace xnet::conformance {

using Bytes = std::vector<uint8_t>;
using Mac = std::array<uint8_t, 6>;

inline constexpr uint16_t kEthIpv4 = 0x0800;
inline constexpr uint16_t kEthArp = 0x0806;
inline constexpr uint16_t kEthVlan = 0x8100;

std::optional<Mac> parse_mac(const std::string& text);
uint32_t ip4(const std::string& dotted);  // host order
std::string ip4_text(uint32_t host_order);

// RFC 1071 over `data` (plus an initial partial sum).
uint16_t inet_checksum(const uint8_t* data, size_t len, uint32_t sum = 0);

// The deterministic payload every scenario sends: byte i of datagram `seq`.
Bytes pattern(size_t size, uint8_t seq = 0);
// FNV-1a, for "same bytes" without printing them.
std::string digest(const uint8_t* data, size_t len);

// ---- builder ----------------------------------------------------------------

struct Ipv4Spec {
  uint8_t tos = 0;
  uint16_t id = 0x1234;
  bool df = false;
  bool mf = false;
  uint16_t frag_offset = 0;  // bytes, multiple of 8
  uint8_t ttl = 64;
  uint8_t proto = 17;
  uint32_t src = 0;
  uint32_t dst = 0;
  Bytes options;                    // padded to 4 bytes by the builder unless raw_ihl is set
  std::optional<uint8_t> version;   // default 4
  std::optional<uint8_t> raw_ihl;   // override the header length field (words)
  std::optional<uint16_t> tot_len;  // override the total length field
  std::optional<uint16_t> csum;     // override the checksum
};

// The IPv4 header (with options) followed by `payload`.
Bytes ipv4_packet(const Ipv4Spec& ip, const Bytes& payload);

struct UdpSpec {
  uint16_t sport = 0;
  uint16_t dport = 0;
  std::optional<uint16_t> len;   // override the length field
  std::optional<uint16_t> csum;  // override (0: none)
};
// A UDP header + payload with the checksum over the pseudo-header of src/dst.
Bytes udp_datagram(uint32_t src, uint32_t dst, const UdpSpec& udp, const Bytes& payload);

// An ICMP message: type, code, the 4 "rest of header" bytes, data; checksummed.
Bytes icmp_message(uint8_t type, uint8_t code, uint32_t rest, const Bytes& data);

Bytes ethernet(const Mac& dst, const Mac& src, uint16_t type, const Bytes& payload,
               std::optional<uint16_t> vlan = std::nullopt);

struct ArpSpec {
  uint16_t op = 1;
  Mac sha{};
  uint32_t spa = 0;
  Mac tha{};
  uint32_t tpa = 0;
};
Bytes arp_packet(const ArpSpec& a);

// Splits a whole IP datagram's payload (`l4`, e.g. a UDP datagram) into
// fragments of at most `chunk` bytes (multiple of 8): one IP packet each.
std::vector<Bytes> fragments(const Ipv4Spec& ip, const Bytes& l4, size_t chunk);

// ---- dissector --------------------------------------------------------------

// One record: ordered "name=value" fields (what the comparator walks).
struct Record {
  std::string what;  // e.g. "frame 3", "call 2 sendmsg"
  std::vector<std::pair<std::string, std::string>> fields;
  void add(std::string name, std::string value) { fields.emplace_back(std::move(name), std::move(value)); }
  void add(std::string name, long long value) { add(std::move(name), std::to_string(value)); }
};

// What the dissector replaces by roles, so a kernel run and an xnet run on
// different veths (and different random choices) compare equal.
struct Normaliser {
  Mac host_mac{};
  Mac peer_mac{};
  std::map<uint16_t, int> ids;         // non-zero IP IDs of the host, by first appearance
  std::map<uint16_t, int> ephemeral;   // ephemeral ports, by first appearance
  std::string mac(const uint8_t* m) const;
  std::string id(uint16_t v);
  std::string port(uint16_t v);
};

// Dissects one captured frame (the host's) into fields. UDP checksums of
// fragmented datagrams are checked over the reassembly of `all` (every frame
// of the capture).
Record dissect(const Bytes& frame, Normaliser& n, const std::vector<Bytes>& all);

}  // namespace xnet::conformance
