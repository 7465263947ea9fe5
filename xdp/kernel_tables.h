#pragma once
// KernelTables: the kernel's neighbour table and gateway routes of one
// interface, followed over rtnetlink (shared mode). The kernel keeps the
// address and answers its ARP, so ARP replies go to the kernel, not to
// xnet: xnet takes its neighbours' MACs from the kernel's table instead of
// resolving them itself, and never sends ARP from the kernel's MAC address.
//
// A thread reads the table once (RTM_GETNEIGH dump), then its change
// notifications (RTNLGRP_NEIGH), and reports every valid entry (reachable,
// stale, delay, probe, permanent, noarp with a MAC) to `learn`. solicit(ip)
// — the stacks' neighbour solicitor in shared mode — asks the kernel to
// resolve or confirm `ip` (RTM_NEWNEIGH with NTF_USE, what `ip neigh ...
// use` does: neigh_event_send, so the kernel sends its own ARP request), and
// reports a MAC it already knows at once.
//
// Routes: the gateway routes that leave by the interface are read when xnet
// starts (kernel_net.h); this object follows their changes (RTNLGRP_IPV4_ROUTE)
// and reports each added or replaced one, and each one deleted, to `route`.
// Both callbacks run on this object's thread.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "stack/wire/addr.h"
#include "xdp/error.h"
#include "xdp/kernel_net.h"
#include "xdp/rtnl_socket.h"

namespace xnet::xdp {

struct KernelTableCounts {
  uint64_t solicited = 0;  // solicit() calls
  uint64_t asked = 0;      // NTF_USE requests sent to the kernel
  uint64_t learned = 0;    // valid entries reported to `learn`
  uint64_t route_changes = 0;  // gateway routes added, replaced or deleted
};

class KernelTables {
 public:
  using Learn = std::function<void(wire::Ipv4Addr ip, const wire::MacAddr& mac)>;
  // `deleted` false: added or replaced.
  using RouteChange = std::function<void(const KernelRoute& route, bool deleted)>;
  static XdpResult<std::unique_ptr<KernelTables>> start(uint32_t ifindex, Learn learn, RouteChange route);
  ~KernelTables();  // stops the thread
  KernelTables(const KernelTables&) = delete;
  KernelTables& operator=(const KernelTables&) = delete;

  // Thread-safe, cheap (queues and wakes the thread).
  void solicit(wire::Ipv4Addr ip);
  KernelTableCounts counts() const;

 private:
  KernelTables(uint32_t ifindex, Learn learn, RouteChange route, RtnlSocket events, RtnlSocket requests,
               int wake_fd);
  void run();
  void on_message(const nlmsghdr* m);
  void ask_kernel(wire::Ipv4Addr ip);

  uint32_t ifindex_;
  Learn learn_;
  RouteChange route_;
  RtnlSocket events_;    // RTNLGRP_NEIGH and RTNLGRP_IPV4_ROUTE notifications
  RtnlSocket requests_;  // dump and NTF_USE requests (answers with acks)
  int wake_fd_ = -1;     // eventfd: solicit() and the destructor
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<wire::Ipv4Addr> asked_;  // guarded by mu_
  std::unordered_map<uint32_t, wire::MacAddr> known_;  // the thread's
  std::atomic<uint64_t> solicited_{0}, sent_{0}, learned_{0}, route_changes_{0};
  std::thread thread_;
};

}  // namespace xnet::xdp
