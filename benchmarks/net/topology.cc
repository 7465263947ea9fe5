#include "benchmarks/net/topology.h"

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

int Topology::pin_napi_threads(int cpu) {
  const std::optional<int> nice = thread_nice() != 0 ? std::optional<int>(thread_nice()) : std::nullopt;
  return xdp::pin_napi_threads(if_a(), cpu, nice) + xdp::pin_napi_threads(if_b(), cpu, nice);
}

}  // namespace xnet::bench
