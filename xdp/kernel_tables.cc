#include "xdp/kernel_tables.h"

#include <arpa/inet.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace xnet::xdp {
namespace {

// NUD_VALID in the kernel (include/net/neighbour.h): states with a usable MAC.
constexpr uint16_t kNudValid =
    NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE | NUD_PROBE | NUD_STALE | NUD_DELAY;

}  // namespace

XdpResult<std::unique_ptr<KernelTables>> KernelTables::start(uint32_t ifindex, Learn learn, RouteChange route) {
  auto events = RtnlSocket::open(RTMGRP_NEIGH | RTMGRP_IPV4_ROUTE);
  if (!events) return events.take_error();
  auto requests = RtnlSocket::open();
  if (!requests) return requests.take_error();
  const int wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) return errno_error(errno, std::string("eventfd: ") + std::strerror(errno));
  std::unique_ptr<KernelTables> k(new KernelTables(ifindex, std::move(learn), std::move(route), std::move(events.value()),
                                                           std::move(requests.value()), wake));
  // The table as it is now, before the thread follows its changes (joined
  // first, so no change falls between the dump and the notifications).
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = RTM_GETNEIGH;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  auto* ndm = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
  ndm->ndm_family = AF_INET;
  KernelTables* self = k.get();
  if (auto r = k->requests_.request(nlh, [self](const nlmsghdr* m) { self->on_message(m); },
                                    "reading the kernel's neighbours (RTM_GETNEIGH)");
      !r) {
    return r.take_error();
  }
  k->thread_ = std::thread([self] { self->run(); });
  return k;
}

KernelTables::KernelTables(uint32_t ifindex, Learn learn, RouteChange route, RtnlSocket events,
                           RtnlSocket requests, int wake_fd)
    : ifindex_(ifindex),
      learn_(std::move(learn)),
      route_(std::move(route)),
      events_(std::move(events)),
      requests_(std::move(requests)),
      wake_fd_(wake_fd) {}

namespace {

// The wake-up eventfd: a write that fails finds the counter already
// non-zero (the thread wakes anyway), a read that fails finds it drained.
void poke(int fd) {
  const uint64_t one = 1;
  if (::write(fd, &one, sizeof one) < 0) return;
}

void drain(int fd) {
  uint64_t v;
  if (::read(fd, &v, sizeof v) < 0) return;
}

}  // namespace

KernelTables::~KernelTables() {
  stop_ = true;
  poke(wake_fd_);
  if (thread_.joinable()) thread_.join();
  ::close(wake_fd_);
}

void KernelTables::solicit(wire::Ipv4Addr ip) {
  ++solicited_;
  {
    std::lock_guard lock(mu_);
    asked_.push_back(ip);
  }
  poke(wake_fd_);
}

KernelTableCounts KernelTables::counts() const {
  return {solicited_.load(), sent_.load(), learned_.load(), route_changes_.load()};
}

void KernelTables::on_message(const nlmsghdr* m) {
  if (m->nlmsg_type == RTM_NEWROUTE || m->nlmsg_type == RTM_DELROUTE) {
    if (auto r = parse_gateway_route(m, ifindex_)) {
      ++route_changes_;
      route_(*r, m->nlmsg_type == RTM_DELROUTE);
    }
    return;
  }
  if (m->nlmsg_type != RTM_NEWNEIGH && m->nlmsg_type != RTM_DELNEIGH) return;
  const auto* ndm = static_cast<const ndmsg*>(mnl_nlmsg_get_payload(m));
  if (ndm->ndm_family != AF_INET || static_cast<uint32_t>(ndm->ndm_ifindex) != ifindex_) return;
  const nlattr* a[NDA_MAX + 1];
  rtnl_attrs(m, sizeof(ndmsg), a);
  if (a[NDA_DST] == nullptr || mnl_attr_get_payload_len(a[NDA_DST]) != 4) return;
  const wire::Ipv4Addr ip(ntohl(mnl_attr_get_u32(a[NDA_DST])));
  const bool valid = m->nlmsg_type == RTM_NEWNEIGH && (ndm->ndm_state & kNudValid) != 0 &&
                     a[NDA_LLADDR] != nullptr && mnl_attr_get_payload_len(a[NDA_LLADDR]) == 6;
  if (!valid) {
    // Incomplete, failed or gone: nothing to report; xnet's own entry
    // keeps its timers and fails by them if the kernel never resolves it.
    known_.erase(ip.value());
    return;
  }
  std::array<uint8_t, 6> bytes;
  std::memcpy(bytes.data(), mnl_attr_get_payload(a[NDA_LLADDR]), 6);
  const wire::MacAddr mac(bytes);
  known_[ip.value()] = mac;
  ++learned_;
  learn_(ip, mac);
}

void KernelTables::ask_kernel(wire::Ipv4Addr ip) {
  // What xnet's table asks, the kernel may already know (answered now); the
  // kernel is asked anyway, so a stale entry of its own is confirmed.
  if (auto it = known_.find(ip.value()); it != known_.end()) {
    ++learned_;
    learn_(ip, it->second);
  }
  std::array<char, 256> buf{};
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = RTM_NEWNEIGH;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_ACK;
  auto* ndm = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
  ndm->ndm_family = AF_INET;
  ndm->ndm_ifindex = static_cast<int>(ifindex_);
  ndm->ndm_state = NUD_NONE;
  ndm->ndm_flags = NTF_USE;  // neigh_event_send: resolve (or re-probe) it
  mnl_attr_put_u32(nlh, NDA_DST, htonl(ip.value()));
  ++sent_;
  if (auto r = requests_.request(nlh, [](const nlmsghdr*) {}, "asking the kernel to resolve " + ip.to_string());
      !r) {
    std::fprintf(stderr, "xnet: %s\n", r.message().c_str());
  }
}

void KernelTables::run() {
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  KernelTables* self = this;
  auto cb = [](const nlmsghdr* m, void* data) -> int {
    static_cast<KernelTables*>(data)->on_message(m);
    return MNL_CB_OK;
  };
  while (!stop_) {
    pollfd fds[2] = {{events_.fd(), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "xnet: following the kernel's neighbours stopped: poll: %s\n", std::strerror(errno));
      return;
    }
    if (fds[0].revents & POLLIN) {
      const ssize_t n = mnl_socket_recvfrom(events_.get(), buf.data(), buf.size());
      if (n < 0 && errno == ENOBUFS) {
        // Notifications were lost (the socket overflowed): the next
        // solicit of each neighbour asks the kernel again, which answers.
        std::fprintf(stderr, "xnet: missed kernel neighbour notifications (ENOBUFS)\n");
      } else if (n > 0) {
        mnl_cb_run(buf.data(), static_cast<size_t>(n), 0, 0, cb, self);
      }
    }
    if (fds[1].revents & POLLIN) {
      drain(wake_fd_);
      std::vector<wire::Ipv4Addr> asked;
      {
        std::lock_guard lock(mu_);
        asked.swap(asked_);
      }
      for (wire::Ipv4Addr ip : asked) {
        if (!stop_) ask_kernel(ip);
      }
    }
  }
}

}  // namespace xnet::xdp
