#include "xdp/netdev.h"

#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace xnet::xdp {
namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

uint64_t effective_caps() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("CapEff:", 0) == 0) return std::stoull(line.substr(7), nullptr, 16);
  }
  return 0;
}

constexpr int kCapNetAdmin = 12;
constexpr int kCapNetRaw = 13;
constexpr int kCapSysAdmin = 21;
constexpr int kCapBpf = 39;

}  // namespace

XdpResult<NetdevInfo> query_netdev(const std::string& ifname) {
  NetdevInfo info;
  info.name = ifname;
  if (ifname.empty() || ifname.size() >= IFNAMSIZ) {
    return make_error(std::errc::no_such_device, "invalid interface name '" + ifname + "'");
  }
  Fd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (sock.get() < 0) return errno_error(errno, "socket(AF_INET) failed");

  ifreq ifr{};
  std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  if (ioctl(sock.get(), SIOCGIFINDEX, &ifr) != 0) {
    return make_error(std::errc::no_such_device,
                      "no such interface '" + ifname +
                          "' in this network namespace (check `ip link show`)");
  }
  info.ifindex = static_cast<uint32_t>(ifr.ifr_ifindex);
  if (ioctl(sock.get(), SIOCGIFMTU, &ifr) != 0) return errno_error(errno, "SIOCGIFMTU failed");
  info.mtu = static_cast<uint32_t>(ifr.ifr_mtu);
  if (ioctl(sock.get(), SIOCGIFHWADDR, &ifr) != 0) {
    return errno_error(errno, "SIOCGIFHWADDR failed");
  }
  std::array<uint8_t, 6> mac{};
  std::memcpy(mac.data(), ifr.ifr_hwaddr.sa_data, 6);
  info.mac = wire::MacAddr(mac);

  // veth and most NICs report their queues as channels; a driver without
  // get_channels has a single queue as far as AF_XDP is concerned.
  ethtool_channels ch{};
  ch.cmd = ETHTOOL_GCHANNELS;
  ifr.ifr_data = reinterpret_cast<char*>(&ch);
  if (ioctl(sock.get(), SIOCETHTOOL, &ifr) == 0) {
    info.rx_queues = ch.rx_count + ch.combined_count;
    info.tx_queues = ch.tx_count + ch.combined_count;
    if (info.rx_queues == 0) info.rx_queues = 1;
    if (info.tx_queues == 0) info.tx_queues = 1;
  }
  return info;
}

XdpResult<void> check_privileges() {
  const uint64_t caps = effective_caps();
  auto has = [caps](int cap) { return (caps >> cap) & 1; };
  if (!has(kCapNetAdmin)) {
    return make_error(std::errc::operation_not_permitted,
                      "attaching XDP needs CAP_NET_ADMIN (run as root or grant "
                      "cap_net_admin,cap_bpf,cap_net_raw)");
  }
  if (!has(kCapBpf) && !has(kCapSysAdmin)) {
    return make_error(std::errc::operation_not_permitted,
                      "loading BPF programs needs CAP_BPF (or CAP_SYS_ADMIN)");
  }
  if (!has(kCapNetRaw)) {
    return make_error(std::errc::operation_not_permitted,
                      "opening an AF_XDP socket needs CAP_NET_RAW");
  }
  return {};
}

}  // namespace xnet::xdp
