#include "benchmarks/net/topology.h"

#include <cstdlib>

#include <fmt/format.h>

#include <vector>

#include "benchmarks/net/common.h"
#include "xdp/napi_threads.h"

namespace xnet::bench {

std::unique_ptr<Topology> Topology::create(uint32_t queues, int index, std::string* error, uint32_t mtu) {
  std::unique_ptr<Topology> t(new Topology());
  t->queues_ = queues;
  t->n_ = std::to_string(index);
  netns::VethOptions o;
  o.queues = queues;
  o.mtu = mtu;
  o.kernel_side_addrs = {t->kernel_b() + "/24"};
  o.xnet_side_kernel_addrs = {t->kernel_a() + "/24"};
  t->veth_ = netns::VethTopology::create(o, error);
  if (!t->veth_) return nullptr;
  // Kernel ↔ kernel runs should not pay for ARP: static entries both ways.
  auto neigh = [](netns::Netns& ns, const std::string& addr, const std::string& mac, const std::string& dev) {
    return ns.exec("ip neigh replace " + addr + " lladdr " + mac + " dev " + dev + " nud permanent").ok();
  };
  netns::VethTopology& v = *t->veth_;
  bool ok = neigh(v.xnet_ns(), t->kernel_b(), v.kernel_mac(), v.xnet_if());
  ok &= neigh(v.kernel_ns(), t->kernel_a(), v.xnet_mac(), v.kernel_if());
  ok &= neigh(v.kernel_ns(), t->xnet_to_kernel_a(), v.xnet_mac(), v.kernel_if());
  ok &= neigh(v.xnet_ns(), t->xnet_to_kernel_b(), v.kernel_mac(), v.xnet_if());
  if (!ok) {
    if (error != nullptr) *error = "cannot add the static neighbour entries";
    return nullptr;
  }
  return t;
}

Topology::~Topology() = default;

bool Topology::set_threaded_napi(bool on) {
  const std::string v = on ? "1" : "0";
  bool ok = veth_->xnet_ns().exec("echo " + v + " > /sys/class/net/" + if_a() + "/threaded").ok();
  ok &= veth_->kernel_ns().exec("echo " + v + " > /sys/class/net/" + if_b() + "/threaded").ok();
  return ok;
}

Topology::DevDrops Topology::dev_drops() const {
  auto read = [](const netns::Netns& ns, const std::string& ifname, const char* counter) -> uint64_t {
    const netns::CommandResult r = ns.exec("cat /sys/class/net/" + ifname + "/statistics/" + counter);
    return r.ok() ? std::strtoull(r.output.c_str(), nullptr, 10) : 0;
  };
  DevDrops d;
  d.a_tx = read(veth_->xnet_ns(), if_a(), "tx_dropped");
  d.a_rx = read(veth_->xnet_ns(), if_a(), "rx_dropped");
  d.b_tx = read(veth_->kernel_ns(), if_b(), "tx_dropped");
  d.b_rx = read(veth_->kernel_ns(), if_b(), "rx_dropped");
  return d;
}

bool Topology::set_kernel_b_tx_checksum(bool on) {
  return veth_->kernel_ns().exec("ethtool -K " + if_b() + " tx " + (on ? "on" : "off") + " >/dev/null").ok();
}

bool Topology::set_kernel_a_tx_checksum(bool on) {
  return veth_->xnet_ns().exec("ethtool -K " + if_a() + " tx " + (on ? "on" : "off") + " >/dev/null").ok();
}

int Topology::pin_napi_threads(int cpu) {
  const std::optional<int> nice = thread_nice() != 0 ? std::optional<int>(thread_nice()) : std::nullopt;
  return xdp::pin_napi_threads(if_a(), cpu, nice) + xdp::pin_napi_threads(if_b(), cpu, nice);
}

}  // namespace xnet::bench
