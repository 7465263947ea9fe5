#include "xdp/rtnl_socket.h"

#include <linux/rtnetlink.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace xnet::xdp {

XdpResult<RtnlSocket> RtnlSocket::open(unsigned groups) {
  mnl_socket* nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (nl == nullptr) return errno_error(errno, std::string("rtnetlink socket: ") + std::strerror(errno));
  RtnlSocket s(nl);
  if (mnl_socket_bind(nl, groups, MNL_SOCKET_AUTOPID) < 0) {
    return errno_error(errno, std::string("binding the rtnetlink socket: ") + std::strerror(errno));
  }
  return s;
}

RtnlSocket::~RtnlSocket() {
  if (nl_ != nullptr) mnl_socket_close(nl_);
}

XdpResult<void> RtnlSocket::request(nlmsghdr* nlh, const std::function<void(const nlmsghdr*)>& cb,
                                    const std::string& what) {
  nlh->nlmsg_seq = next_seq();
  if (mnl_socket_sendto(nl_, nlh, nlh->nlmsg_len) < 0) {
    return errno_error(errno, what + ": " + std::strerror(errno));
  }
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  auto trampoline = [](const nlmsghdr* m, void* data) -> int {
    (*static_cast<const std::function<void(const nlmsghdr*)>*>(data))(m);
    return MNL_CB_OK;
  };
  for (;;) {
    const ssize_t n = mnl_socket_recvfrom(nl_, buf.data(), buf.size());
    if (n < 0) return errno_error(errno, what + ": " + std::strerror(errno));
    const int r = mnl_cb_run(buf.data(), static_cast<size_t>(n), nlh->nlmsg_seq, portid(), trampoline,
                             const_cast<std::function<void(const nlmsghdr*)>*>(&cb));
    if (r < 0) return errno_error(errno, what + ": " + std::strerror(errno));
    if (r == MNL_CB_STOP) return {};
  }
}

void rtnl_attrs(const nlmsghdr* m, size_t header, std::span<const nlattr*> table) {
  for (const nlattr*& a : table) a = nullptr;
  auto store = [](const nlattr* a, void* data) -> int {
    auto* t = static_cast<std::span<const nlattr*>*>(data);
    const auto type = static_cast<size_t>(mnl_attr_get_type(a));
    if (type < t->size()) (*t)[type] = a;
    return MNL_CB_OK;
  };
  mnl_attr_parse(m, static_cast<unsigned>(header), store, &table);
}

}  // namespace xnet::xdp
