#pragma once
// IPv4 identification generator, the ip_idents analog: a table of counters,
// each seeded randomly, selected by a keyed hash of (saddr, daddr, protocol).
// Datagrams to one destination get consecutive IDs; an observer cannot predict
// the IDs another destination sees (RFC 6864 §5, RFC 7739).

#include <array>
#include <cstdint>

#include "stack/wire/addr.h"

namespace xnet::stack {

class IpIdentGenerator {
 public:
  // A seed of 0 draws one from std::random_device; tests pass a fixed seed.
  explicit IpIdentGenerator(uint64_t seed = 0);

  // Reserves `segs` consecutive IDs (GSO segments each carry their own) and
  // returns the first.
  uint16_t next(wire::Ipv4Addr saddr, wire::Ipv4Addr daddr, uint8_t protocol, uint16_t segs = 1) {
    uint16_t& slot = idents_[bucket(saddr, daddr, protocol)];
    const uint16_t id = slot;
    slot = static_cast<uint16_t>(slot + segs);
    return id;
  }

 private:
  static constexpr uint32_t kBuckets = 2048;  // as the kernel's minimum IP_IDENTS_SZ

  uint32_t bucket(wire::Ipv4Addr saddr, wire::Ipv4Addr daddr, uint8_t protocol) const {
    // Keyed multiply-xorshift: cheap, and without the key the bucket (hence the
    // shared counter) cannot be chosen by a remote peer.
    uint64_t h = (uint64_t{daddr.value()} << 32 | saddr.value()) ^ key_;
    h ^= uint64_t{protocol} * 0x9e3779b97f4a7c15ull;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return static_cast<uint32_t>(h) & (kBuckets - 1);
  }

  uint64_t key_;
  std::array<uint16_t, kBuckets> idents_;
};

}  // namespace xnet::stack
