#include "benchmarks/net/topology.h"

#include <dirent.h>
#include <fmt/format.h>
#include <sched.h>
#include <sys/resource.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <vector>

#include "benchmarks/net/common.h"
#include "xdp/napi_threads.h"

namespace xnet::bench {
namespace {

constexpr const char* kPrefix = "xnb";

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

bool ip(const std::vector<std::string>& args, std::string* error) {
  std::vector<std::string> argv = {"ip"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string out;
  if (run_command(argv, &out) == 0) return true;
  if (error != nullptr) {
    std::string cmd;
    for (const std::string& a : argv) cmd += a + " ";
    *error = fmt::format("`{}` failed: {}", cmd, trim(out));
  }
  return false;
}

}  // namespace

void remove_stale_namespaces() {
  DIR* d = opendir("/run/netns");
  if (d == nullptr) return;
  std::vector<std::string> stale;
  while (dirent* e = readdir(d)) {
    const std::string n = e->d_name;
    if (n.rfind(kPrefix, 0) != 0) continue;
    const pid_t pid = static_cast<pid_t>(std::atol(n.c_str() + 3));
    if (pid <= 0 || (kill(pid, 0) != 0 && errno == ESRCH)) stale.push_back(n);
  }
  closedir(d);
  for (const std::string& n : stale) ip({"netns", "del", n}, nullptr);
}

std::unique_ptr<Topology> Topology::create(uint32_t queues, int index, std::string* error) {
  std::unique_ptr<Topology> t(new Topology());
  const std::string pid = std::to_string(getpid());
  t->queues_ = queues;
  t->n_ = std::to_string(index);
  t->ns_a_ = kPrefix + pid + "-" + t->n_ + "a";
  t->ns_b_ = kPrefix + pid + "-" + t->n_ + "b";
  // Short names: NAPI kthreads are "napi/<if>-<id>" and comm holds 15 chars.
  const std::string tag = std::to_string(getpid() % 100000);
  t->if_a_ = "nb" + tag + "a" + t->n_;
  t->if_b_ = "nb" + tag + "b" + t->n_;
  for (const std::string* ns : {&t->ns_a_, &t->ns_b_}) {
    register_cleanup_netns(*ns);
    if (!ip({"netns", "add", *ns}, error)) return nullptr;
    ip({"-n", *ns, "link", "set", "lo", "up"}, nullptr);
  }
  const std::string q = std::to_string(queues);
  if (!ip({"-n", t->ns_a_, "link", "add", t->if_a_, "numrxqueues", q, "numtxqueues", q, "type", "veth",
           "peer", "name", t->if_b_, "netns", t->ns_b_, "numrxqueues", q, "numtxqueues", q},
          error))
    return nullptr;
  if (!ip({"-n", t->ns_a_, "link", "set", t->if_a_, "up"}, error)) return nullptr;
  if (!ip({"-n", t->ns_b_, "link", "set", t->if_b_, "up"}, error)) return nullptr;
  if (!ip({"-n", t->ns_a_, "addr", "add", t->kernel_a() + "/24", "dev", t->if_a_}, error)) return nullptr;
  if (!ip({"-n", t->ns_b_, "addr", "add", t->kernel_b() + "/24", "dev", t->if_b_}, error)) return nullptr;
  auto mac = [](const std::string& ns, const std::string& ifn) {
    std::string out;
    run_command({"ip", "netns", "exec", ns, "cat", "/sys/class/net/" + ifn + "/address"}, &out);
    return trim(out);
  };
  t->mac_a_ = mac(t->ns_a_, t->if_a_);
  t->mac_b_ = mac(t->ns_b_, t->if_b_);
  if (t->mac_a_.size() != 17 || t->mac_b_.size() != 17) {
    if (error != nullptr) *error = "cannot read the veth MAC addresses";
    return nullptr;
  }
  // Kernel ↔ kernel runs should not pay for ARP: static entries both ways.
  ip({"-n", t->ns_a_, "neigh", "replace", t->kernel_b(), "lladdr", t->mac_b_, "dev", t->if_a_, "nud",
      "permanent"},
     nullptr);
  ip({"-n", t->ns_b_, "neigh", "replace", t->kernel_a(), "lladdr", t->mac_a_, "dev", t->if_b_, "nud",
      "permanent"},
     nullptr);
  ip({"-n", t->ns_b_, "neigh", "replace", t->xnet_to_kernel_a(), "lladdr", t->mac_a_, "dev", t->if_b_,
      "nud", "permanent"},
     nullptr);
  return t;
}

Topology::~Topology() {
  for (const std::string* ns : {&ns_b_, &ns_a_}) {
    if (ns->empty()) continue;
    ip({"netns", "del", *ns}, nullptr);
    unregister_cleanup_netns(*ns);
  }
}

bool Topology::set_threaded_napi(bool on) {
  const std::string v = on ? "1" : "0";
  bool ok = true;
  ok &= run_command({"ip", "netns", "exec", ns_a_, "sh", "-c",
                     "echo " + v + " > /sys/class/net/" + if_a_ + "/threaded"}) == 0;
  ok &= run_command({"ip", "netns", "exec", ns_b_, "sh", "-c",
                     "echo " + v + " > /sys/class/net/" + if_b_ + "/threaded"}) == 0;
  return ok;
}

int Topology::pin_napi_threads(int cpu) {
  const std::optional<int> nice = thread_nice() != 0 ? std::optional<int>(thread_nice()) : std::nullopt;
  return xdp::pin_napi_threads(if_a_, cpu, nice) + xdp::pin_napi_threads(if_b_, cpu, nice);
}

}  // namespace xnet::bench
