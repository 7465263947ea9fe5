#include "netns/netns.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <thread>

namespace xnet::netns {
namespace {

std::atomic<uint32_t> g_counter{0};

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

bool ip(const std::vector<std::string>& args, std::string* error) {
  std::vector<std::string> argv = {"ip"};
  argv.insert(argv.end(), args.begin(), args.end());
  const CommandResult r = run_command(argv);
  if (r.ok()) return true;
  if (error != nullptr) {
    std::string cmd;
    for (const std::string& a : argv) cmd += a + " ";
    *error = "`" + cmd + "` failed" + (r.timed_out ? " (timeout)" : "") + ": " + trim(r.output);
  }
  return false;
}

}  // namespace

std::string own_prefix() { return "xnt" + std::to_string(getpid()) + "-"; }

void remove_own_leftovers() {
  const std::string prefix = own_prefix();
  DIR* d = opendir("/run/netns");
  if (d == nullptr) return;
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    const std::string n = e->d_name;
    if (n.rfind(prefix, 0) == 0) names.push_back(n);
  }
  closedir(d);
  for (const std::string& n : names) ip({"netns", "del", n}, nullptr);
}

void remove_stale_namespaces() {
  DIR* d = opendir("/run/netns");
  if (d == nullptr) return;
  std::vector<std::string> stale;
  while (dirent* e = readdir(d)) {
    const std::string n = e->d_name;
    if (n.rfind("xnt", 0) != 0) continue;
    const pid_t pid = static_cast<pid_t>(std::atol(n.c_str() + 3));
    if (pid > 0 && kill(pid, 0) != 0 && errno == ESRCH) stale.push_back(n);
  }
  closedir(d);
  for (const std::string& n : stale) ip({"netns", "del", n}, nullptr);
}

std::unique_ptr<Netns> Netns::create(const std::string& name, std::string* error) {
  if (!ip({"netns", "add", name}, error)) return nullptr;
  std::unique_ptr<Netns> ns(new Netns(name));
  // Loopback up: kernel-side tools (ping to self, sockets on 127.0.0.1) expect it.
  ip({"-n", name, "link", "set", "lo", "up"}, nullptr);
  return ns;
}

Netns::~Netns() { ip({"netns", "del", name_}, nullptr); }

bool Netns::run(const std::function<void()>& fn) const {
  bool entered = false;
  std::thread t([&] {
    const int fd = open(("/run/netns/" + name_).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    entered = setns(fd, CLONE_NEWNET) == 0;
    close(fd);
    if (entered) fn();
  });
  t.join();
  return entered;
}

CommandResult Netns::exec(const std::string& command, std::chrono::milliseconds timeout) const {
  return run_command({"ip", "netns", "exec", name_, "/bin/sh", "-c", command}, timeout);
}

std::unique_ptr<VethTopology> VethTopology::create(const VethOptions& o, std::string* error) {
  static std::atomic<bool> cleaned{false};
  if (!cleaned.exchange(true)) remove_own_leftovers();

  const uint32_t n = g_counter.fetch_add(1);
  std::unique_ptr<VethTopology> t(new VethTopology());
  // Partially built topologies are torn down by ~VethTopology on every early return.
  t->xnet_ns_ = Netns::create(own_prefix() + std::to_string(n) + "-x", error);
  if (!t->xnet_ns_) return nullptr;
  t->kernel_ns_ = Netns::create(own_prefix() + std::to_string(n) + "-k", error);
  if (!t->kernel_ns_) return nullptr;
  // Short: a NAPI kthread's comm is "napi/<if>-<id>" in 15 characters, and
  // its name is how its threads are found (pinning). Unique enough: each end
  // lives in a namespace of its own, whose name carries the whole pid.
  const std::string short_pid = std::to_string(getpid() % 100000);
  t->xnet_if_ = "xv" + short_pid + "x" + std::to_string(n);
  t->kernel_if_ = "xv" + short_pid + "k" + std::to_string(n);
  const std::string& xns = t->xnet_ns_->name();
  const std::string& kns = t->kernel_ns_->name();
  const std::string q = std::to_string(o.queues);
  // Created inside the xnet namespace with the peer placed straight into the
  // other one, so no interface ever exists in the caller's namespace.
  if (!ip({"-n", xns, "link", "add", t->xnet_if_, "numrxqueues", q, "numtxqueues", q, "type",
           "veth", "peer", "name", t->kernel_if_, "netns", kns, "numrxqueues", q, "numtxqueues",
           q},
          error))
    return nullptr;
  const std::string mtu = std::to_string(o.mtu);
  if (!ip({"-n", xns, "link", "set", t->xnet_if_, "mtu", mtu, "up"}, error)) return nullptr;
  if (!ip({"-n", kns, "link", "set", t->kernel_if_, "mtu", mtu, "up"}, error)) return nullptr;
  for (const std::string& a : o.kernel_side_addrs) {
    if (!ip({"-n", kns, "addr", "add", a, "dev", t->kernel_if_}, error)) return nullptr;
  }
  for (const std::string& a : o.xnet_side_kernel_addrs) {
    if (!ip({"-n", xns, "addr", "add", a, "dev", t->xnet_if_}, error)) return nullptr;
  }
  for (const auto& [addr, lladdr] : o.kernel_side_neighbours) {
    if (!ip({"-n", kns, "neigh", "replace", addr, "lladdr", lladdr, "dev", t->kernel_if_,
             "nud", "permanent"},
            error))
      return nullptr;
  }
  if (o.kernel_tx_checksum_off) {
    const CommandResult r = t->kernel_ns_->exec("ethtool -K " + t->kernel_if_ + " tx off");
    if (!r.ok()) {
      if (error != nullptr) *error = "ethtool -K tx off failed: " + trim(r.output);
      return nullptr;
    }
  }
  t->xnet_mac_ = trim(t->xnet_ns_->exec("cat /sys/class/net/" + t->xnet_if_ + "/address").output);
  t->kernel_mac_ =
      trim(t->kernel_ns_->exec("cat /sys/class/net/" + t->kernel_if_ + "/address").output);
  if (t->xnet_mac_.size() != 17 || t->kernel_mac_.size() != 17) {
    if (error != nullptr) *error = "could not read the veth MAC addresses";
    return nullptr;
  }
  return t;
}

VethTopology::~VethTopology() {
  // Deleting a namespace destroys the veth end inside it, and with it the pair.
  kernel_ns_.reset();
  xnet_ns_.reset();
}

std::string privileged_skip_reason() {
  if (geteuid() != 0) return "needs root (network namespaces, XDP, AF_XDP)";
  if (access("/run/netns", W_OK) != 0 && access("/run", W_OK) != 0) {
    return "/run/netns is not writable (run with tags = [\"no-sandbox\"])";
  }
  return {};
}

bool privileged_required() {
  const char* v = std::getenv("XNET_REQUIRE_PRIVILEGED");
  return v != nullptr && std::string(v) == "1";
}

}  // namespace xnet::netns
