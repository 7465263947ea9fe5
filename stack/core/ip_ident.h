#pragma once
// IPv4 identification generator, the ip_idents analog: a table of counters,
// each seeded randomly, selected by a keyed hash of (saddr, daddr, protocol).
// Datagrams to one destination get consecutive IDs; an observer cannot predict
// the IDs another destination sees (RFC 6864 §5, RFC 7739).

#include <array>
#include <chrono>
#include <cstdint>

#include "stack/wire/addr.h"

namespace xnet::stack {

class IpIdentGenerator {
 public:
  // A seed of 0 draws one from std::random_device; tests pass a fixed seed.
  explicit IpIdentGenerator(uint64_t seed = 0);

  // The clock the generator steps by (jiffies at the kernel's HZ 250: 4 ms),
  // set by Stack::poll, so a send reads no clock of its own.
  void set_clock(std::chrono::steady_clock::time_point now) {
    jiffies_ = static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() / 4);
  }

  // ip_idents_reserve: reserves `segs` consecutive IDs (GSO segments each
  // carry their own) and returns the first. A bucket idle since its last use
  // first skips a random step below the ticks it was idle, so the IDs one
  // destination sees do not tell how many datagrams others were sent
  // (the side channel the kernel closed in 2019, CVE-2019-10638).
  uint16_t next(wire::Ipv4Addr saddr, wire::Ipv4Addr daddr, uint8_t protocol, uint16_t segs = 1) {
    const uint32_t b = bucket(saddr, daddr, protocol);
    uint32_t delta = 0;
    if (stamps_[b] != jiffies_) {
      delta = static_cast<uint32_t>(draw() % (jiffies_ - stamps_[b]));
      stamps_[b] = jiffies_;
    }
    const uint16_t id = static_cast<uint16_t>(idents_[b] + delta);
    idents_[b] = static_cast<uint16_t>(id + segs);
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
  uint64_t draw() {
    uint64_t z = (rng_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

  uint64_t key_;
  uint64_t rng_;
  uint32_t jiffies_ = 0;
  std::array<uint16_t, kBuckets> idents_;
  std::array<uint32_t, kBuckets> stamps_{};  // ip_tstamps: the tick of each bucket's last use
};

}  // namespace xnet::stack
