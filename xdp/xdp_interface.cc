#include "xdp/xdp_interface.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <net/if.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

#include "bpf/steer_abi.h"

namespace xnet::xdp {

XdpResult<std::unique_ptr<XdpInterface>> XdpInterface::open(const XdpInterfaceConfig& config) {
  if (auto r = check_privileges(); !r) return r.take_error();
  auto netdev = query_netdev(config.ifname);
  if (!netdev) return netdev.take_error();

  std::unique_ptr<XdpInterface> iface(new XdpInterface());
  iface->netdev_ = std::move(netdev.value());
  auto program = XdpProgram::attach(iface->netdev_.ifindex, iface->netdev_.name, config.program);
  if (!program) return program.take_error();
  iface->program_ = std::move(program.value());

  iface->owned_fd_ = iface->program_->map_fd(XNET_MAP_OWNED);
  iface->xsks_fd_ = iface->program_->map_fd(XNET_MAP_XSKS);
  iface->stats_fd_ = iface->program_->map_fd(XNET_MAP_STATS);
  iface->udp_dests_fd_ = iface->program_->map_fd(XNET_MAP_UDP_DESTS);
  iface->shared_fd_ = iface->program_->map_fd(XNET_MAP_SHARED);
  iface->ports_fd_ = iface->program_->map_fd(XNET_MAP_PORTS);
  const int config_fd = iface->program_->map_fd(XNET_MAP_CONFIG);
  if (iface->owned_fd_ < 0 || iface->xsks_fd_ < 0 || iface->stats_fd_ < 0 || config_fd < 0 ||
      iface->udp_dests_fd_ < 0 || iface->shared_fd_ < 0 || iface->ports_fd_ < 0) {
    return make_error(std::errc::invalid_argument,
                      "the BPF object lacks one of the xnet maps (stale object file?)");
  }
  iface->steer_config_ = std::make_unique<SteerConfig>(config_fd, iface->owned_fd_);
  std::array<uint8_t, 6> mac;
  std::memcpy(mac.data(), iface->netdev_.mac.bytes().data(), mac.size());
  if (auto r = iface->steer_config_->init(mac, !config.shared, config.shared); !r) return r.take_error();
  // For as long as the program is attached: the limited broadcast has no
  // owner to follow, and a stack delivers it to any wildcard socket.
  if (auto r = iface->put_udp_dest(wire::kIpv4Broadcast.value()); !r) return r.take_error();
  return iface;
}

XdpInterface::~XdpInterface() = default;  // XdpProgram detaches

const char* to_string(LinkHealth h) {
  switch (h) {
    case LinkHealth::kOk: return "ok";
    case LinkHealth::kProgramDetached: return "steering program detached";
    case LinkHealth::kInterfaceGone: return "interface gone";
  }
  return "?";
}

LinkHealth XdpInterface::health() const {
  // By index, then the name: a deleted interface's index may be reused by a
  // new one, which is not ours either.
  char name[IF_NAMESIZE] = {};
  if (if_indextoname(netdev_.ifindex, name) == nullptr || netdev_.name != name) {
    return LinkHealth::kInterfaceGone;
  }
  return program_->is_attached() ? LinkHealth::kOk : LinkHealth::kProgramDetached;
}

XdpResult<void> XdpInterface::ref_key(uint32_t addr) {
  int& refs = owned_refs_[addr];
  if (refs++ > 0) return {};
  if (auto r = steer_config_->add_owned(htonl(addr)); !r) {
    owned_refs_.erase(addr);
    return r;
  }
  return {};
}

XdpResult<void> XdpInterface::unref_key(uint32_t addr) {
  auto it = owned_refs_.find(addr);
  if (it == owned_refs_.end()) {
    return make_error(std::errc::no_such_device_or_address, "address is not owned");
  }
  if (--it->second > 0) return {};
  owned_refs_.erase(it);
  return steer_config_->remove_owned(htonl(addr));
}

XdpResult<void> XdpInterface::add_address(wire::Ipv4Addr addr) { return ref_key(addr.value()); }

XdpResult<void> XdpInterface::add_address(const wire::Ipv4Prefix& prefix) {
  if (auto r = ref_key(prefix.addr.value()); !r) return r;
  if (prefix.len < 31) {
    if (auto r = ref_key(prefix.broadcast().value()); !r) {
      (void)unref_key(prefix.addr.value());
      return r;
    }
  }
  return {};
}

XdpResult<void> XdpInterface::remove_address(wire::Ipv4Addr addr) {
  return unref_key(addr.value());
}

XdpResult<void> XdpInterface::remove_address(const wire::Ipv4Prefix& prefix) {
  auto r = unref_key(prefix.addr.value());
  if (prefix.len < 31) (void)unref_key(prefix.broadcast().value());
  return r;
}

XdpResult<void> XdpInterface::put_udp_dest(uint32_t addr) {
  const uint32_t key = htonl(addr);
  const uint8_t one = 1;
  if (bpf_map_update_elem(udp_dests_fd_, &key, &one, BPF_ANY) != 0) {
    const int err = errno;
    return errno_error(err, std::string("could not steer UDP to ") + wire::Ipv4Addr(addr).to_string() +
                                ": " + std::strerror(err) + (err == E2BIG ? " (map full)" : ""));
  }
  return {};
}

XdpResult<void> XdpInterface::add_group(wire::Ipv4Addr group) {
  if (!group.is_multicast()) {
    return make_error(std::errc::invalid_argument, group.to_string() + " is not a multicast group");
  }
  std::lock_guard lock(groups_mu_);
  int& refs = group_refs_[group.value()];
  if (refs++ > 0) return {};
  if (auto r = put_udp_dest(group.value()); !r) {
    group_refs_.erase(group.value());
    return r;
  }
  return {};
}

XdpResult<void> XdpInterface::remove_group(wire::Ipv4Addr group) {
  std::lock_guard lock(groups_mu_);
  auto it = group_refs_.find(group.value());
  if (it == group_refs_.end()) {
    return make_error(std::errc::no_such_device_or_address, group.to_string() + " is not steered");
  }
  if (--it->second > 0) return {};
  group_refs_.erase(it);
  const uint32_t key = htonl(group.value());
  bpf_map_delete_elem(udp_dests_fd_, &key);
  return {};
}

std::vector<wire::Ipv4Addr> XdpInterface::groups() const {
  std::lock_guard lock(groups_mu_);
  std::vector<wire::Ipv4Addr> out;
  for (const auto& [g, refs] : group_refs_) out.emplace_back(g);
  return out;
}

XdpResult<void> XdpInterface::add_shared_address(const wire::Ipv4Prefix& prefix) {
  // The subnet broadcast as a UDP destination: in shared mode the program
  // steers it by port, like the address.
  if (prefix.len < 31) {
    if (auto r = put_udp_dest(prefix.broadcast().value()); !r) return r;
  }
  const wire::Ipv4Addr addr = prefix.addr;
  const uint32_t key = htonl(addr.value());
  const uint8_t one = 1;
  if (bpf_map_update_elem(shared_fd_, &key, &one, BPF_ANY) != 0) {
    const int err = errno;
    return errno_error(err, "could not share " + addr.to_string() + ": " + std::strerror(err) +
                                (err == E2BIG ? " (map full)" : ""));
  }
  return {};
}

XdpResult<void> XdpInterface::steer_port(uint16_t port) {
  const uint16_t key = htons(port);
  const uint8_t one = 1;
  if (bpf_map_update_elem(ports_fd_, &key, &one, BPF_ANY) != 0) {
    const int err = errno;
    return errno_error(err, "could not steer UDP port " + std::to_string(port) + ": " + std::strerror(err));
  }
  return {};
}

void XdpInterface::unsteer_port(uint16_t port) {
  const uint16_t key = htons(port);
  bpf_map_delete_elem(ports_fd_, &key);
}

std::vector<uint16_t> XdpInterface::steered_ports() const {
  std::vector<uint16_t> out;
  uint16_t key = 0;
  uint16_t next = 0;
  const void* prev = nullptr;
  while (bpf_map_get_next_key(ports_fd_, prev, &next) == 0) {
    out.push_back(ntohs(next));
    key = next;
    prev = &key;
  }
  return out;
}

XdpResult<void> XdpInterface::register_xsk(uint32_t queue, int xsk_fd) {
  if (queue >= XNET_MAX_QUEUES) {
    return make_error(std::errc::invalid_argument,
                      "queue " + std::to_string(queue) + " exceeds the XSKMAP size");
  }
  if (bpf_map_update_elem(xsks_fd_, &queue, &xsk_fd, BPF_ANY) != 0) {
    return errno_error(errno, std::string("could not register the AF_XDP socket: ") +
                                  std::strerror(errno));
  }
  return {};
}

void XdpInterface::unregister_xsk(uint32_t queue) { bpf_map_delete_elem(xsks_fd_, &queue); }

SteerCounters XdpInterface::counters() const {
  const int cpus = libbpf_num_possible_cpus();
  std::vector<uint64_t> values(cpus > 0 ? static_cast<size_t>(cpus) : 1);
  auto sum = [&](uint32_t key) {
    uint64_t total = 0;
    if (bpf_map_lookup_elem(stats_fd_, &key, values.data()) == 0) {
      for (uint64_t v : values) total += v;
    }
    return total;
  };
  SteerCounters c;
  c.steered = sum(XNET_STAT_STEERED);
  c.passed = sum(XNET_STAT_PASSED);
  c.malformed = sum(XNET_STAT_MALFORMED);
  c.no_socket = sum(XNET_STAT_NO_SOCKET);
  c.frag_early = sum(XNET_STAT_FRAG_EARLY);
  return c;
}

}  // namespace xnet::xdp
