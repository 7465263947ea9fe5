#include "benchmarks/net/common.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <cstring>
#include <fstream>
#include <mutex>
#include <set>

#include "netns/command.h"
#include "netns/netns.h"

namespace xnet::bench {
namespace {

std::atomic<bool> g_stop{false};

void signal_thread(sigset_t set) {
  for (int n = 0;; ++n) {
    siginfo_t info{};
    const int sig = sigwaitinfo(&set, &info);
    if (sig < 0) {
      if (errno == EINTR) continue;  // e.g. under strace
      return;
    }
    if (n == 0) {
      g_stop.store(true);
      fmt::print(stderr, "\nnetbench: stopping on {} from pid {} (Ctrl-C again to remove the namespaces and exit now)\n",
                 strsignal(sig), info.si_pid);
      continue;
    }
    netns::remove_own_leftovers();
    fmt::print(stderr, "netbench: removed this run's namespaces, exiting\n");
    _exit(130);
  }
}

}  // namespace

bool stopping() { return g_stop.load(std::memory_order_relaxed); }

void install_signal_handling() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  // Blocked here, before any other thread exists, so every thread inherits it
  // and only the signal thread receives them.
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread(signal_thread, set).detach();
}

void set_latency_figures(Measurement& m, const LatencyHistogram& h) {
  auto us = [](uint64_t ns) { return static_cast<double>(ns) / 1000.0; };
  m.set("round_trips", static_cast<double>(h.count()));
  m.set("min_us", us(h.min()));
  m.set("p50_us", us(h.quantile(0.50)));
  m.set("p90_us", us(h.quantile(0.90)));
  m.set("p99_us", us(h.quantile(0.99)));
  m.set("p999_us", us(h.quantile(0.999)));
  m.set("max_us", us(h.max()));
  m.rtt = std::make_shared<LatencyHistogram>(h);
}

void set_rate_figures(Measurement& m, uint64_t sent, uint64_t received, double seconds) {
  const double pps = seconds > 0 ? static_cast<double>(received) / seconds : 0;
  m.set("pps", pps);
  m.set("gbps", pps * static_cast<double>(m.size) * 8 / 1e9);
  m.set("sent", static_cast<double>(sent));
  m.set("received", static_cast<double>(received));
  m.set("lost", sent > received ? static_cast<double>(sent - received) : 0);
  m.set("seconds", seconds);
}

int online_cpus() {
  const long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

namespace {
std::atomic<int> g_nice{0};
}  // namespace

void set_thread_nice(int nice) { g_nice = nice; }
int thread_nice() { return g_nice.load(); }

double load_average() {
  double l[3] = {0, 0, 0};
  return getloadavg(l, 3) > 0 ? l[0] : 0;
}

bool pin_self(int cpu) {
  if (g_nice.load() != 0) setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), g_nice.load());
  if (cpu < 0) return true;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0) return true;
  static std::once_flag warned;
  std::call_once(warned, [cpu] { fmt::print(stderr, "netbench: cannot pin to cpu {}\n", cpu); });
  return false;
}

std::thread spawn_in_netns(const std::string& ns, int cpu, std::function<void()> fn) {
  return std::thread([ns, cpu, fn = std::move(fn)] {
    const int fd = open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
      fmt::print(stderr, "netbench: cannot join namespace {}: {}\n", ns, std::strerror(errno));
      if (fd >= 0) close(fd);
      return;
    }
    close(fd);
    pin_self(cpu);
    fn();
  });
}

int run_command(const std::vector<std::string>& argv, std::string* out) {
  // Bounded: nothing netbench runs (ip, ethtool, gnuplot) takes a minute.
  const netns::CommandResult r = netns::run_command(argv, std::chrono::seconds(60));
  if (out != nullptr) out->append(r.output);
  return r.exit_code;
}

int run_shell(const std::string& cmd, std::string* out) { return run_command({"/bin/sh", "-c", cmd}, out); }

double thread_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_THREAD, &ru);
  auto s = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
  return s(ru.ru_utime) + s(ru.ru_stime);
}

uint64_t rss_kib() {
  std::ifstream f("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  f >> size >> resident;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE)) / 1024;
}

void fill_payload(std::byte* p, size_t size, uint64_t seq) {
  std::memcpy(p, &seq, sizeof seq);
  for (size_t i = sizeof seq; i < size; ++i) p[i] = static_cast<std::byte>(i * 7 + 3);
}

uint64_t payload_seq(const std::byte* p) {
  uint64_t seq = 0;
  std::memcpy(&seq, p, sizeof seq);
  return seq;
}

namespace {
// FNV-1a over the bytes after the 16-byte header, seeded with the sequence
// number, so a datagram delivered under another's number also fails.
uint64_t body_hash(const std::byte* p, size_t size, uint64_t seq) {
  uint64_t h = 1469598103934665603ull ^ (seq * 0x9e3779b97f4a7c15ull);
  for (size_t i = 16; i < size; ++i) h = (h ^ static_cast<uint8_t>(p[i])) * 1099511628211ull;
  return h;
}
}  // namespace

void fill_payload_hashed(std::byte* p, size_t size, uint64_t seq) {
  std::memcpy(p, &seq, sizeof seq);
  for (size_t i = 16; i < size; ++i) p[i] = static_cast<std::byte>((seq >> ((i % 8) * 8)) + i);
  const uint64_t h = body_hash(p, size, seq);
  std::memcpy(p + 8, &h, sizeof h);
}

bool check_payload_hashed(const std::byte* p, size_t size, uint64_t* seq) {
  if (size < 16) return false;
  std::memcpy(seq, p, sizeof *seq);
  uint64_t h = 0;
  std::memcpy(&h, p + 8, sizeof h);
  return h == body_hash(p, size, *seq);
}

}  // namespace xnet::bench
