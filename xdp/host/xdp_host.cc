#include "xdp/host/xdp_host.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>

#include "xdp/kernel_net.h"

namespace xnet::xdp {
namespace {

std::string prefix_text(const wire::Ipv4Prefix& p) {
  return p.addr.to_string() + "/" + std::to_string(p.len);
}

// The kernel interface holding `addr` in this namespace, or empty.
std::string kernel_holder_of(wire::Ipv4Addr addr) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return {};
  std::string holder;
  for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET) continue;
    const auto* sin = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
    if (ntohl(sin->sin_addr.s_addr) == addr.value()) {
      holder = a->ifa_name;
      break;
    }
  }
  freeifaddrs(list);
  return holder;
}

XdpResult<void> check_config(const XdpHostConfig& c) {
  const wire::Ipv4Addr a = c.address.addr;
  if (c.ifname.empty()) return make_error(std::errc::invalid_argument, "no interface name given");
  if (c.shared) return {};  // the kernel's addresses and routes, checked by the kernel
  if (c.address.len < 1 || c.address.len > 32 || a.is_unspecified() || a.is_broadcast() ||
      a.is_multicast() || a.is_loopback() || a.is_unspecified() || a.is_class_e()) {
    return make_error(std::errc::invalid_argument,
                      prefix_text(c.address) +
                          " cannot be owned: give a unicast address with a prefix length "
                          "1..32, e.g. 10.77.0.1/24");
  }
  if (c.address.len < 31 && (a == c.address.network() || a == c.address.broadcast())) {
    return make_error(std::errc::invalid_argument,
                      prefix_text(c.address) + " is the network or broadcast address of its subnet");
  }
  auto on_subnet = [&](wire::Ipv4Addr gw, const std::string& what) -> XdpResult<void> {
    if (!c.address.contains(gw) || gw == a) {
      return make_error(std::errc::invalid_argument,
                        what + " gateway " + gw.to_string() + " is not another host on " +
                            c.address.network().to_string() + "/" + std::to_string(c.address.len));
    }
    return {};
  };
  if (c.gateway) {
    if (auto r = on_subnet(*c.gateway, "default route"); !r) return r;
  }
  for (const GatewayRoute& r : c.routes) {
    if (auto ok = on_subnet(r.gateway, "route " + prefix_text(r.prefix)); !ok) return ok;
  }
  if (const std::string holder = kernel_holder_of(a); !holder.empty()) {
    return make_error(std::errc::address_in_use,
                      a.to_string() + " is configured on the kernel's " + holder +
                          "; xnet owns its address, so the kernel must not hold it: `ip addr del " +
                          prefix_text(c.address) + " dev " + holder + "`");
  }
  return {};
}

}  // namespace

XdpResult<std::unique_ptr<XdpHost>> XdpHost::open(const XdpHostConfig& config,
                                                  stack::TimePoint now) {
  if (auto r = check_config(config); !r) return r.take_error();

  std::unique_ptr<XdpHost> host(new XdpHost());
  host->config_ = config;
  XdpInterfaceConfig ic;
  ic.ifname = config.ifname;
  ic.program = config.program;
  ic.shared = config.shared;
  auto iface = XdpInterface::open(ic);
  if (!iface) return iface.take_error();
  host->iface_ = std::move(iface.value());
  XdpInterface& xi = *host->iface_;

  const uint32_t available = xi.queue_count();
  if (config.queues > available) {
    return make_error(std::errc::invalid_argument,
                      std::to_string(config.queues) + " queues asked for, but " + xi.name() +
                          " has " + std::to_string(available) + " receive queue(s)");
  }
  const uint32_t queues = config.queues == 0 ? available : config.queues;

  std::vector<GatewayRoute> routes = config.routes;
  if (config.shared) {
    auto addrs = kernel_addresses(config.ifname);
    if (!addrs) return addrs.take_error();
    host->addresses_ = std::move(addrs.value());
    auto kroutes = kernel_gateway_routes(xi.ifindex());
    if (!kroutes) return kroutes.take_error();
    for (const KernelRoute& r : kroutes.value()) routes.push_back(GatewayRoute{r.prefix, r.gateway});
    std::vector<wire::Ipv4Addr> shared;
    for (const wire::Ipv4Prefix& p : host->addresses_) shared.push_back(p.addr);
    auto handback = KernelHandback::open();
    if (!handback) return handback.take_error();
    host->ports_ = std::make_unique<SharedPorts>(xi, std::move(shared), std::move(handback.value()));
  } else {
    host->addresses_ = {config.address};
  }

  // Links and stacks first, steering last: until a socket is on a queue the
  // program passes the address's frames to the kernel (no_socket), which
  // drops them, instead of losing them in an empty XSKMAP slot.
  host->shards_.reserve(queues);
  for (uint32_t q = 0; q < queues; ++q) {
    auto link = XdpLink::create(xi, q, config.link);
    if (!link) {
      Error e = link.take_error();
      e.message = "queue " + std::to_string(q) + " of " + xi.name() + ": " + e.message;
      return e;
    }
    XdpShard shard;
    shard.queue = q;
    shard.link = std::move(link.value());
    stack::StackConfig sc = config.stack;
    if (sc.seed != 0) sc.seed += q;
    shard.stack = std::make_unique<stack::Stack>(sc);
    if (config.wrap_link) shard.wrapper = config.wrap_link(q, *shard.link);
    shard.ifindex = shard.stack->add_interface(shard.wrapper ? *shard.wrapper : *shard.link);
    stack::Stack& st = *shard.stack;
    st.set_port_claims(host->ports_.get());
    for (const wire::Ipv4Prefix& a : host->addresses_) {
      if (auto r = st.add_address(shard.ifindex, a, now); !r) {
        return errno_error(r.error().value(), "adding " + prefix_text(a) + " to the stack of queue " +
                                                  std::to_string(q) + ": " + r.error().message());
      }
    }
    if (config.gateway) {
      if (auto r = st.add_gateway_route(wire::Ipv4Prefix{wire::Ipv4Addr(0u), 0}, *config.gateway,
                                        shard.ifindex);
          !r) {
        return errno_error(r.error().value(), "default route via " + config.gateway->to_string() +
                                                  ": " + r.error().message());
      }
    }
    for (const GatewayRoute& gr : routes) {
      if (auto r = st.add_gateway_route(gr.prefix, gr.gateway, shard.ifindex); !r) {
        return errno_error(r.error().value(), "route " + prefix_text(gr.prefix) + " via " +
                                                  gr.gateway.to_string() + ": " +
                                                  r.error().message());
      }
    }
    host->shards_.push_back(std::move(shard));
  }

  for (const wire::Ipv4Prefix& a : host->addresses_) {
    auto r = config.shared ? xi.add_shared_address(a) : xi.add_address(a);
    if (!r) {
      Error e = r.take_error();
      e.message = "steering " + prefix_text(a) + " on " + xi.name() + ": " + e.message;
      return e;
    }
  }
  return host;
}

XdpHost::~XdpHost() { (void)close(); }

XdpResult<void> XdpHost::close() {
  // Stacks hold Packets of the links' pools; links are registered in the
  // interface's XSKMAP: destroy in that order.
  for (XdpShard& s : shards_) s.stack.reset();
  shards_.clear();
  ports_.reset();  // every port back to the kernel, before the program goes
  if (!iface_) return {};
  XdpResult<void> r = iface_->detach();
  iface_.reset();
  return r;
}

bool XdpHost::frames_idle() {
  for (XdpShard& s : shards_) {
    const FrameCounts c = s.link->frame_counts();
    if (!c.adds_up() || c.stack != 0 || c.tx != 0 || c.completion != 0) return false;
    if (s.link->pool().in_use() != s.link->frames_held()) return false;
  }
  return true;
}

XdpResult<wire::Ipv4Prefix> parse_host_address(const std::string& text) {
  auto p = wire::Ipv4Prefix::parse(text);
  if (!p) {
    return make_error(std::errc::invalid_argument,
                      "'" + text + "' is not an address with a prefix length, e.g. 10.77.0.1/24");
  }
  return *p;
}

}  // namespace xnet::xdp
