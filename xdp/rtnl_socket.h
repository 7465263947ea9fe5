#pragma once
// One rtnetlink socket (libmnl) and a dump over it: the small part of
// netlink every reader of the kernel's tables here shares.

#include <libmnl/libmnl.h>

#include <functional>
#include <span>
#include <string>

#include "xdp/error.h"

namespace xnet::xdp {

class RtnlSocket {
 public:
  // `groups`: RTMGRP_* multicast groups to join (0: none, requests only).
  static XdpResult<RtnlSocket> open(unsigned groups = 0);
  RtnlSocket(RtnlSocket&& o) noexcept : nl_(o.nl_), seq_(o.seq_) { o.nl_ = nullptr; }
  RtnlSocket& operator=(RtnlSocket&&) = delete;
  RtnlSocket(const RtnlSocket&) = delete;
  ~RtnlSocket();

  int fd() const { return mnl_socket_get_fd(nl_); }
  unsigned portid() const { return mnl_socket_get_portid(nl_); }
  unsigned next_seq() { return ++seq_; }
  mnl_socket* get() { return nl_; }

  // Sends `nlh` (a request with NLM_F_DUMP or NLM_F_ACK) and runs `cb` on
  // every message of the answer until it ends; `what` names it in errors.
  XdpResult<void> request(nlmsghdr* nlh, const std::function<void(const nlmsghdr*)>& cb, const std::string& what);

 private:
  explicit RtnlSocket(mnl_socket* nl) : nl_(nl) {}
  mnl_socket* nl_ = nullptr;
  unsigned seq_ = 0;
};

// The attributes of `m` after its family header (`header` bytes), by type:
// table[type], null when absent or beyond the table. (libmnl's
// mnl_attr_for_each does not compile as C++.)
void rtnl_attrs(const nlmsghdr* m, size_t header, std::span<const nlattr*> table);

}  // namespace xnet::xdp
