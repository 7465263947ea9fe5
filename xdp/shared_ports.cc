#include "xdp/shared_ports.h"

#include <sys/uio.h>

#include <utility>
#include <vector>

#include "stack/wire/ipv4.h"

namespace xnet::xdp {

SharedPorts::SharedPorts(XdpInterface& iface, std::vector<wire::Ipv4Addr> addrs, KernelHandback handback)
    : iface_(iface), addrs_(std::move(addrs)), handback_(std::move(handback)) {}

SharedPorts::~SharedPorts() {
  std::lock_guard lock(mu_);
  for (const auto& [port, held] : held_) iface_.unsteer_port(port);
  held_.clear();  // the kernel sockets close: the ports are the kernel's again
}

bool SharedPorts::claim(uint16_t port) {
  std::lock_guard lock(mu_);
  if (auto it = held_.find(port); it != held_.end()) {
    ++it->second.claims;
    return true;
  }
  Held h;
  for (wire::Ipv4Addr a : addrs_) {
    auto k = KernelPort::hold(a, port);
    if (!k) return false;  // a kernel socket has it: EADDRINUSE for the binder
    h.kernel.push_back(std::move(k.value()));
  }
  // The map full (XNET_MAX_PORTS covers every port, so only a kernel
  // failure): refuse rather than hold a port whose datagrams go elsewhere.
  if (!iface_.steer_port(port)) return false;
  h.claims = 1;
  held_.emplace(port, std::move(h));
  return true;
}

void SharedPorts::release(uint16_t port) {
  std::lock_guard lock(mu_);
  auto it = held_.find(port);
  if (it == held_.end() || --it->second.claims > 0) return;
  iface_.unsteer_port(port);  // first stop steering, then let the kernel have it
  held_.erase(it);
}

bool SharedPorts::hand_back(const stack::Packet& head, const stack::PacketQueue& rest) {
  // Rare (a fragmented datagram whose first fragment came last, for a port
  // that is not ours): a vector per datagram is fine here.
  std::vector<iovec> udp;
  udp.reserve(rest.size() + 1);
  udp.push_back({const_cast<std::byte*>(head.data()), head.size()});
  rest.for_each([&](const stack::PacketMeta& m, const std::byte* frame) {
    udp.push_back({const_cast<std::byte*>(frame + m.head), m.len});
  });
  const auto ip = wire::ConstIpv4View::unchecked(std::span<const std::byte>(head.network_header(), 20));
  if (handback_.give(ip.src(), ip.dst(), ip.tos(), ip.ttl(), udp)) {
    ++handed_back_;
  } else {
    ++hand_back_failed_;  // the datagram is dropped: counted here
  }
  return true;
}

std::vector<uint16_t> SharedPorts::held() const {
  std::lock_guard lock(mu_);
  std::vector<uint16_t> out;
  for (const auto& [port, h] : held_) out.push_back(port);
  return out;
}

}  // namespace xnet::xdp
