// The steering program's rules (bpf/xnet_steer.bpf.c) for owned addresses,
// as xdp::SteerConfig writes them, and for shared ones, run with
// BPF_PROG_TEST_RUN on hand-made frames: which frames xnet would take
// (counted NoSocket, as no AF_XDP socket is registered here) and which go to
// the kernel (Passed). Needs root to load the program; no namespace.

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <linux/if_link.h>

#include <array>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "bpf/steer_abi.h"
#include "tests/netns/privileged.h"
#include "xdp/steer_config.h"

namespace {

constexpr const char* kObjectPath = "bpf/xnet_steer.bpf.o";
constexpr uint8_t kShared[4] = {10, 86, 0, 1};
constexpr uint8_t kPeer[4] = {10, 86, 0, 2};
constexpr uint8_t kOther[4] = {10, 86, 0, 9};  // an address nobody shares
constexpr uint8_t kSubnetBroadcast[4] = {10, 86, 0, 255};
constexpr uint8_t kLimitedBroadcast[4] = {255, 255, 255, 255};
constexpr uint16_t kXnetPort = 7;
constexpr uint16_t kKernelPort = 9000;
constexpr uint16_t kMf = 0x2000;

struct ObjectCloser {
  void operator()(bpf_object* o) const { bpf_object__close(o); }
};

void put16(std::vector<uint8_t>& f, size_t at, uint16_t v) {
  f[at] = static_cast<uint8_t>(v >> 8);
  f[at + 1] = static_cast<uint8_t>(v);
}

// Ethernet + IPv4 (20 bytes, checksum left 0: the program does not check
// it) + `l4`.
std::vector<uint8_t> ipv4(uint8_t proto, const uint8_t src[4], const uint8_t dst[4], uint16_t id, uint16_t frag,
                          const std::vector<uint8_t>& l4) {
  std::vector<uint8_t> f(14 + 20, 0);
  f[12] = 0x08;  // IPv4
  f[14] = 0x45;
  put16(f, 16, static_cast<uint16_t>(20 + l4.size()));
  put16(f, 18, id);
  put16(f, 20, frag);
  f[22] = 64;
  f[23] = proto;
  std::memcpy(&f[26], src, 4);
  std::memcpy(&f[30], dst, 4);
  f.insert(f.end(), l4.begin(), l4.end());
  return f;
}

std::vector<uint8_t> udp(uint16_t sport, uint16_t dport, size_t payload = 16) {
  std::vector<uint8_t> u(8 + payload, 0xab);
  put16(u, 0, sport);
  put16(u, 2, dport);
  put16(u, 4, static_cast<uint16_t>(u.size()));
  put16(u, 6, 0);
  return u;
}

// Ethernet + an ARP request from `sender` for `target`.
std::vector<uint8_t> arp_request(const uint8_t sender[4], const uint8_t target[4]) {
  std::vector<uint8_t> f(14 + 28, 0);
  f[12] = 0x08;
  f[13] = 0x06;
  const uint8_t head[] = {0, 1, 8, 0, 6, 4, 0, 1};  // Ethernet, IPv4, request
  std::memcpy(&f[14], head, sizeof head);
  std::memcpy(&f[14 + 14], sender, 4);
  std::memcpy(&f[14 + 24], target, 4);
  return f;
}

// An ICMP error of `type` quoting the IPv4 + UDP header of a datagram
// src:sport -> dst:dport.
std::vector<uint8_t> icmp_error(uint8_t type, const uint8_t src[4], uint16_t sport, const uint8_t dst[4],
                                uint16_t dport) {
  std::vector<uint8_t> quoted = ipv4(17, src, dst, 1, 0, udp(sport, dport, 0));
  quoted.erase(quoted.begin(), quoted.begin() + 14);
  std::vector<uint8_t> m = {type, 3, 0, 0, 0, 0, 0, 0};
  m.insert(m.end(), quoted.begin(), quoted.end());
  return m;
}

// The program loaded, with nothing owned or shared yet.
class SteerProgram : public ::testing::Test {
 protected:
  void SetUp() override {
    XNET_REQUIRE_PRIVILEGED();
    obj_.reset(bpf_object__open_file(kObjectPath, nullptr));
    ASSERT_EQ(libbpf_get_error(obj_.get()), 0);
    ASSERT_EQ(bpf_object__load(obj_.get()), 0) << "the verifier refused the program";
    prog_fd_ = bpf_program__fd(bpf_object__find_program_by_name(obj_.get(), XNET_STEER_PROG_NAME));
    stats_fd_ = bpf_object__find_map_fd_by_name(obj_.get(), XNET_MAP_STATS);
  }

  int map_fd(const char* name) { return bpf_object__find_map_fd_by_name(obj_.get(), name); }

  void set_shared(bool on) {
    xnet_steer_config cfg{};
    cfg.shared = on ? 1 : 0;
    const uint32_t zero = 0;
    ASSERT_EQ(bpf_map_update_elem(map_fd(XNET_MAP_CONFIG), &zero, &cfg, 0), 0);
  }

  uint64_t stat(uint32_t key) {
    std::vector<uint64_t> v(static_cast<size_t>(libbpf_num_possible_cpus()));
    if (bpf_map_lookup_elem(stats_fd_, &key, v.data()) != 0) return 0;
    uint64_t sum = 0;
    for (uint64_t x : v) sum += x;
    return sum;
  }

  // Runs the program on `frame`: true when it would have gone to xnet.
  bool to_xnet(std::vector<uint8_t> frame) {
    const uint64_t before_x = stat(XNET_STAT_NO_SOCKET), before_k = stat(XNET_STAT_PASSED);
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_size_in = static_cast<uint32_t>(frame.size()));
    EXPECT_EQ(bpf_prog_test_run_opts(prog_fd_, &opts), 0);
    EXPECT_EQ(opts.retval, static_cast<uint32_t>(XDP_PASS));  // no AF_XDP socket: passed either way
    const bool x = stat(XNET_STAT_NO_SOCKET) == before_x + 1;
    const bool k = stat(XNET_STAT_PASSED) == before_k + 1;
    EXPECT_NE(x, k) << "exactly one of NoSocket (xnet's) and Passed (the kernel's) moves";
    return x;
  }

  std::unique_ptr<bpf_object, ObjectCloser> obj_;
  int prog_fd_ = -1;
  int stats_fd_ = -1;
};

class SharedSteer : public SteerProgram {
 protected:
  void SetUp() override {
    SteerProgram::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    const uint8_t one = 1;
    uint32_t addr;
    std::memcpy(&addr, kShared, 4);
    ASSERT_EQ(bpf_map_update_elem(map_fd(XNET_MAP_SHARED), &addr, &one, 0), 0);
    const uint16_t port = htons(kXnetPort);
    ASSERT_EQ(bpf_map_update_elem(map_fd(XNET_MAP_PORTS), &port, &one, 0), 0);
    // As XdpInterface sets them up in shared mode: broadcasts are UDP
    // destinations, steered by port.
    const int dests = map_fd(XNET_MAP_UDP_DESTS);
    for (const uint8_t* b : {kSubnetBroadcast, kLimitedBroadcast}) {
      std::memcpy(&addr, b, 4);
      ASSERT_EQ(bpf_map_update_elem(dests, &addr, &one, 0), 0);
    }
    set_shared(true);
  }
};

// Owned addresses as XdpInterface publishes them (xdp::SteerConfig): inline
// in the config entry while XNET_OWNED_INLINE fit, in the hash map beyond.
class OwnedSteer : public SteerProgram {
 protected:
  void SetUp() override {
    SteerProgram::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    config_.emplace(map_fd(XNET_MAP_CONFIG), map_fd(XNET_MAP_OWNED));
    ASSERT_TRUE(config_->init({2, 0, 0, 0, 0, 1}, true, false));
  }

  // The i-th owned address, 10.87.0.i.
  static std::array<uint8_t, 4> addr(int i) { return {10, 87, 0, static_cast<uint8_t>(i)}; }
  static uint32_t key(int i) {
    const auto a = addr(i);
    uint32_t k;
    std::memcpy(&k, a.data(), 4);
    return k;
  }
  bool udp_to(const std::array<uint8_t, 4>& a) { return to_xnet(ipv4(17, kPeer, a.data(), 1, 0, udp(5000, 9))); }

  void write_config(const xnet_steer_config& cfg) {
    const uint32_t zero = 0;
    ASSERT_EQ(bpf_map_update_elem(map_fd(XNET_MAP_CONFIG), &zero, &cfg, 0), 0);
  }

  std::optional<xnet::xdp::SteerConfig> config_;
};

TEST_F(OwnedSteer, NothingOwnedNothingTaken) {
  EXPECT_FALSE(udp_to(addr(1)));
  EXPECT_FALSE(udp_to({0, 0, 0, 0})) << "the empty slots of the inline list match nothing";
}

TEST_F(OwnedSteer, InlineWhileTheyFitThenTheMapAndBackAgain) {
  const int n = XNET_OWNED_INLINE + 4;
  for (int i = 1; i <= n; ++i) {
    ASSERT_TRUE(config_->add_owned(key(i)));
    EXPECT_EQ(config_->inline_list(), i <= XNET_OWNED_INLINE) << i;
    for (int j = 1; j <= n + 1; ++j) ASSERT_EQ(udp_to(addr(j)), j <= i) << "owning 1.." << i << ", to " << j;
  }
  // And down again: a removed address is the kernel's on either path.
  for (int i = n; i >= 1; --i) {
    ASSERT_TRUE(config_->remove_owned(key(i)));
    EXPECT_EQ(config_->inline_list(), i - 1 <= XNET_OWNED_INLINE) << i;
    for (int j = 1; j <= n; ++j) ASSERT_EQ(udp_to(addr(j)), j < i) << "owning 1.." << i - 1 << ", to " << j;
  }
  EXPECT_FALSE(udp_to({0, 0, 0, 0}));
}

// The program's side of the contract, written by hand: the inline list alone
// decides while owned_in_map is 0 (an address only there is taken, one only in
// the map is not), and the map alone while it is 1.
TEST_F(OwnedSteer, TheFlagSaysWhichOfListAndMapDecides) {
  const uint8_t one = 1;
  const uint32_t in_map = key(2);
  ASSERT_EQ(bpf_map_update_elem(map_fd(XNET_MAP_OWNED), &in_map, &one, 0), 0);
  xnet_steer_config cfg{};
  cfg.owned_count = 1;
  cfg.owned[0] = key(1);
  write_config(cfg);
  EXPECT_TRUE(udp_to(addr(1)));
  EXPECT_FALSE(udp_to(addr(2)));
  cfg.owned_in_map = 1;
  write_config(cfg);
  EXPECT_FALSE(udp_to(addr(1)));
  EXPECT_TRUE(udp_to(addr(2)));
  // Only the first owned_count slots count.
  cfg = {};
  cfg.owned_count = 1;
  cfg.owned[0] = key(1);
  cfg.owned[1] = key(3);
  write_config(cfg);
  EXPECT_FALSE(udp_to(addr(3)));
}

TEST_F(OwnedSteer, ArpForAnOwnedAddressIsTaken) {
  ASSERT_TRUE(config_->add_owned(key(1)));
  EXPECT_TRUE(to_xnet(arp_request(kPeer, addr(1).data())));
  EXPECT_FALSE(to_xnet(arp_request(kPeer, addr(2).data())));
}

TEST_F(SharedSteer, UdpByPortEverythingElseToTheKernel) {
  EXPECT_TRUE(to_xnet(ipv4(17, kPeer, kShared, 1, 0, udp(5000, kXnetPort))));
  EXPECT_FALSE(to_xnet(ipv4(17, kPeer, kShared, 2, 0, udp(5000, kKernelPort))));
  EXPECT_FALSE(to_xnet(ipv4(17, kPeer, kOther, 3, 0, udp(5000, kXnetPort)))) << "another address";
  EXPECT_FALSE(to_xnet(ipv4(6, kPeer, kShared, 4, 0, udp(5000, kXnetPort)))) << "TCP";
  EXPECT_FALSE(to_xnet(ipv4(1, kPeer, kShared, 5, 0, {8, 0, 0, 0, 0, 1, 0, 1}))) << "ICMP echo";
  EXPECT_FALSE(to_xnet(arp_request(kPeer, kShared))) << "ARP for the shared address is the kernel's";
}

TEST_F(SharedSteer, BroadcastsByPortInSharedModeOnly) {
  EXPECT_TRUE(to_xnet(ipv4(17, kPeer, kSubnetBroadcast, 1, 0, udp(5000, kXnetPort))));
  EXPECT_TRUE(to_xnet(ipv4(17, kPeer, kLimitedBroadcast, 2, 0, udp(5000, kXnetPort))));
  EXPECT_FALSE(to_xnet(ipv4(17, kPeer, kLimitedBroadcast, 3, 0, udp(67, 68)))) << "a DHCP offer is the kernel's";
  EXPECT_FALSE(to_xnet(ipv4(17, kPeer, kSubnetBroadcast, 4, 0, udp(5000, kKernelPort))));
  EXPECT_FALSE(to_xnet(ipv4(17, kPeer, kLimitedBroadcast, 5, 8, std::vector<uint8_t>(64, 0))))
      << "a later fragment of a broadcast";
  // An owned address (not shared mode): every UDP to the destinations is xnet's.
  set_shared(false);
  EXPECT_TRUE(to_xnet(ipv4(17, kPeer, kLimitedBroadcast, 6, 0, udp(67, 68))));
}

TEST_F(SharedSteer, IcmpErrorsQuotingAnXnetSourcePort) {
  EXPECT_TRUE(to_xnet(ipv4(1, kPeer, kShared, 1, 0, icmp_error(3, kShared, kXnetPort, kPeer, 9))));
  EXPECT_TRUE(to_xnet(ipv4(1, kPeer, kShared, 2, 0, icmp_error(11, kShared, kXnetPort, kPeer, 9))));
  EXPECT_TRUE(to_xnet(ipv4(1, kPeer, kShared, 3, 0, icmp_error(12, kShared, kXnetPort, kPeer, 9))));
  EXPECT_FALSE(to_xnet(ipv4(1, kPeer, kShared, 4, 0, icmp_error(3, kShared, kKernelPort, kPeer, 9))));
  EXPECT_FALSE(to_xnet(ipv4(1, kPeer, kShared, 5, 0, icmp_error(3, kOther, kXnetPort, kPeer, 9))))
      << "quoting a datagram from another address";
  EXPECT_FALSE(to_xnet(ipv4(1, kPeer, kShared, 6, 0, icmp_error(5, kShared, kXnetPort, kPeer, 9)))) << "a redirect";
}

TEST_F(SharedSteer, FragmentsFollowTheirFirstFragment) {
  const std::vector<uint8_t> rest(64, 0xcd);
  // In order, for xnet's port: all to xnet; for the kernel's: all to the kernel.
  EXPECT_TRUE(to_xnet(ipv4(17, kPeer, kShared, 100, kMf, udp(5000, kXnetPort, 56))));
  EXPECT_TRUE(to_xnet(ipv4(17, kPeer, kShared, 100, kMf | 8, rest)));
  EXPECT_TRUE(to_xnet(ipv4(17, kPeer, kShared, 100, 16, rest)));
  EXPECT_FALSE(to_xnet(ipv4(17, kPeer, kShared, 101, kMf, udp(5000, kKernelPort, 56))));
  EXPECT_FALSE(to_xnet(ipv4(17, kPeer, kShared, 101, 8, rest)));
  EXPECT_EQ(stat(XNET_STAT_FRAG_EARLY), 0u);
  // First fragment last: the later ones are taken (counted), and the first
  // follows them whatever its port (xnet hands a kernel port's datagram back).
  EXPECT_TRUE(to_xnet(ipv4(17, kPeer, kShared, 102, 8, rest)));
  EXPECT_EQ(stat(XNET_STAT_FRAG_EARLY), 1u);
  EXPECT_TRUE(to_xnet(ipv4(17, kPeer, kShared, 102, kMf, udp(5000, kKernelPort, 56))));
  // Same id from another source: another datagram.
  EXPECT_FALSE(to_xnet(ipv4(17, kOther, kShared, 102, kMf, udp(5000, kKernelPort, 56))));
}

}  // namespace
