// What the steering program costs a frame in the kernel, against the raw
// AF_XDP reference's program, which redirects every frame without looking at
// it: BPF_PROG_TEST_RUN runs a program `--repeat` times over one frame and
// reports the mean. No AF_XDP socket is registered here, so both programs
// end in XDP_PASS (the redirect's fallback): the redirect itself, the same
// for both, is left out. Each program sits on every frame's receive, in the
// kernel (inside the sender's kick in a ping-pong; on the receiving core in
// the throughput rows).
//   sudo bazel run -c opt //benchmarks/xdp:steer_bench

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "benchmarks/afxdp_ref/redirect_object.h"
#include "bpf/steer_abi.h"
#include "bpf/xnet_steer_object.h"
#include "xdp/steer_config.h"

namespace {

constexpr std::array<uint8_t, 4> kOwned = {10, 90, 0, 2};
constexpr std::array<uint8_t, 4> kPeer = {10, 90, 0, 1};
constexpr std::array<uint8_t, 4> kOther = {10, 91, 0, 7};

uint32_t key(const std::array<uint8_t, 4>& a) {
  uint32_t k;
  std::memcpy(&k, a.data(), 4);
  return k;
}

// Ethernet + IPv4 + UDP with a 64-byte payload (the program checks no sum).
std::vector<uint8_t> udp_frame(const std::array<uint8_t, 4>& dst) {
  std::vector<uint8_t> f(14 + 20 + 8 + 64, 0);
  f[12] = 0x08;
  f[14] = 0x45;
  const uint16_t tot = htons(static_cast<uint16_t>(f.size() - 14));
  std::memcpy(&f[16], &tot, 2);
  f[22] = 64;
  f[23] = 17;
  std::memcpy(&f[26], kPeer.data(), 4);
  std::memcpy(&f[30], dst.data(), 4);
  const uint16_t sport = htons(40000), dport = htons(5000), ulen = htons(8 + 64);
  std::memcpy(&f[34], &sport, 2);
  std::memcpy(&f[36], &dport, 2);
  std::memcpy(&f[38], &ulen, 2);
  return f;
}

std::vector<uint8_t> arp_request(const std::array<uint8_t, 4>& target) {
  std::vector<uint8_t> f(14 + 28, 0);
  f[12] = 0x08;
  f[13] = 0x06;
  const uint8_t head[] = {0, 1, 8, 0, 6, 4, 0, 1};
  std::memcpy(&f[14], head, sizeof head);
  std::memcpy(&f[14 + 14], kPeer.data(), 4);
  std::memcpy(&f[14 + 24], target.data(), 4);
  return f;
}

struct Object {
  bpf_object* obj = nullptr;
  ~Object() { bpf_object__close(obj); }
};

bool load(Object& o, std::span<const unsigned char> bytes, const char* name) {
  o.obj = bpf_object__open_mem(bytes.data(), bytes.size(), nullptr);
  if (libbpf_get_error(o.obj) != 0) {
    o.obj = nullptr;
    fmt::print(stderr, "steer_bench: cannot open the {} object\n", name);
    return false;
  }
  if (bpf_object__load(o.obj) != 0) {
    fmt::print(stderr, "steer_bench: cannot load {} ({}): run as root\n", name, std::strerror(errno));
    return false;
  }
  return true;
}

// Median over `rounds` of the kernel's mean ns per run, and the verdict.
struct Figure {
  double ns = 0;
  uint32_t retval = 0;
};

Figure time_prog(int prog_fd, std::vector<uint8_t> frame, int repeat, int rounds) {
  std::vector<double> ns;
  Figure f;
  for (int r = 0; r < rounds; ++r) {
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(),
                .data_size_in = static_cast<uint32_t>(frame.size()), .repeat = repeat);
    if (bpf_prog_test_run_opts(prog_fd, &opts) != 0) {
      fmt::print(stderr, "steer_bench: BPF_PROG_TEST_RUN failed: {}\n", std::strerror(errno));
      return f;
    }
    ns.push_back(opts.duration);
    f.retval = opts.retval;
  }
  std::sort(ns.begin(), ns.end());
  f.ns = ns[ns.size() / 2];
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"The steering program's cost per frame in the kernel, against the raw AF_XDP reference's "
               "redirect-only program (BPF_PROG_TEST_RUN; needs root)"};
  int repeat = 2000000;
  int rounds = 5;
  app.add_option("--repeat", repeat, "runs per measurement (the kernel reports their mean)")->capture_default_str();
  app.add_option("--rounds", rounds, "measurements per row (the median is printed)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (rounds < 1 || repeat < 1) {
    fmt::print(stderr, "steer_bench: --repeat and --rounds must be at least 1\n");
    return 2;
  }

  Object ref, xnet_obj;
  if (!load(ref, afxdp_ref::redirect_object(), "reference redirect") ||
      !load(xnet_obj, xnet::bpf::xnet_steer_object(), "xnet steering")) {
    return 1;
  }
  const int ref_fd = bpf_program__fd(bpf_object__find_program_by_name(ref.obj, "ref_redirect"));
  const int xnet_fd = bpf_program__fd(bpf_object__find_program_by_name(xnet_obj.obj, XNET_STEER_PROG_NAME));
  xnet::xdp::SteerConfig config(bpf_object__find_map_fd_by_name(xnet_obj.obj, XNET_MAP_CONFIG),
                                bpf_object__find_map_fd_by_name(xnet_obj.obj, XNET_MAP_OWNED));
  if (ref_fd < 0 || xnet_fd < 0 || !config.init({2, 0, 0, 0, 0, 1}, true, false) ||
      !config.add_owned(key(kOwned)) || !config.add_owned(key({10, 90, 0, 255}))) {
    fmt::print(stderr, "steer_bench: cannot set the programs up\n");
    return 1;
  }

  fmt::print("BPF_PROG_TEST_RUN, {} runs a measurement, median of {}; no socket registered (XDP_PASS)\n",
             repeat, rounds);
  fmt::print("{:<58} {:>8}\n", "program, frame", "ns/frame");
  auto row = [&](const std::string& what, int fd, const std::vector<uint8_t>& frame) {
    const Figure f = time_prog(fd, frame, repeat, rounds);
    fmt::print("{:<58} {:>8.1f}\n", what, f.ns);
  };
  row("reference (redirect every frame), UDP 64 B", ref_fd, udp_frame(kOwned));
  row("xnet, UDP 64 B to an owned address (inline list)", xnet_fd, udp_frame(kOwned));
  row("xnet, UDP 64 B to another address (passed)", xnet_fd, udp_frame(kOther));
  row("xnet, ARP request for an owned address", xnet_fd, arp_request(kOwned));
  // Past XNET_OWNED_INLINE addresses the program asks the hash map, as every
  // frame did before the list.
  for (int i = 0; i < XNET_OWNED_INLINE; ++i) {
    if (!config.add_owned(key({10, 92, 0, static_cast<uint8_t>(i + 1)}))) {
      fmt::print(stderr, "steer_bench: cannot add owned addresses\n");
      return 1;
    }
  }
  row(fmt::format("xnet, UDP 64 B to an owned address (hash map, {} owned)", XNET_OWNED_INLINE + 2), xnet_fd,
      udp_frame(kOwned));
  return 0;
}
