#pragma once
// What xdp/ needs to know about an interface and about our own privileges,
// asked of the kernel through ioctls on a socket created in the calling
// thread's network namespace (so it is right after setns, unlike /sys, which
// shows the namespace of whoever mounted it).

#include <cstdint>
#include <string>

#include "stack/wire/addr.h"
#include "xdp/error.h"

namespace xnet::xdp {

struct NetdevInfo {
  std::string name;
  uint32_t ifindex = 0;
  uint32_t mtu = 0;  // L3
  wire::MacAddr mac;
  uint32_t rx_queues = 1;  // combined or rx channels; 1 if the driver does not say
  uint32_t tx_queues = 1;
};

// ENODEV "no such interface" when the name is unknown.
XdpResult<NetdevInfo> query_netdev(const std::string& ifname);

// EPERM with the missing capability named, when loading XDP programs and
// opening AF_XDP sockets is not allowed (CAP_NET_ADMIN, CAP_BPF or root; CAP_NET_RAW
// for the socket).
XdpResult<void> check_privileges();

}  // namespace xnet::xdp
