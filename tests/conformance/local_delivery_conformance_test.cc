// Datagrams to our own address, asked of the running kernel: each scenario
// runs once through kernel sockets in a fresh namespace that owns 10.0.1.1/24
// (lo up, as every host has it) and once through an xnet stack that owns the
// same address, and what each call returned, what each receive got and how
// /proc/net/snmp moved (the kernel namespace's file vs xnet's format_snmp)
// must agree, counter for counter.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "stack/core/stack.h"
#include "stack/core/stats.h"
#include "stack/udp/udp_output.h"
#include "stack/udp/udp_recv.h"
#include "stack/udp/udp_sock.h"
#include "stack/udp/udp_table.h"
#include "tests/netns/privileged.h"
#include "tests/stack/tx/tx_net.h"

namespace xnet {
namespace {

constexpr const char* kSelf = "10.0.1.1";
constexpr uint16_t kPort = 7;
constexpr uint16_t kClosedPort = 9;

using Snmp = std::map<std::string, long long>;

// "Ip: a b c\nIp: 1 2 3\n..." → {"Ip.a": 1, ...}
Snmp parse_snmp(const std::string& text) {
  Snmp out;
  std::istringstream in(text);
  std::string names, values;
  while (std::getline(in, names) && std::getline(in, values)) {
    std::istringstream n(names), v(values);
    std::string group, name, value;
    n >> group;
    v >> value;  // the group again
    group.pop_back();  // the ':'
    while (n >> name && v >> value) out[group + "." + name] = std::stoll(value);
  }
  return out;
}

// The counters compared: every one the scenarios below can move.
const std::vector<std::string> kCounters = {
    "Ip.InReceives",      "Ip.InDelivers",        "Ip.OutRequests",     "Ip.OutTransmits",
    "Ip.OutNoRoutes",     "Ip.FragCreates",       "Ip.FragOKs",         "Ip.ReasmReqds",
    "Icmp.InMsgs",        "Icmp.InDestUnreachs",  "Icmp.OutMsgs",       "Icmp.OutDestUnreachs",
    "Udp.InDatagrams",    "Udp.OutDatagrams",     "Udp.NoPorts",        "Udp.InErrors",
};

// One host under test: the kernel's sockets or an xnet stack.
class Host {
 public:
  virtual ~Host() = default;
  virtual int open() = 0;
  virtual long bind(int s, uint16_t port) = 0;
  virtual long connect(int s, const std::string& ip, uint16_t port) = 0;
  virtual long send(int s, size_t n, const std::string& ip, uint16_t port, uint16_t gso = 0) = 0;
  virtual long cork(int s, bool on) = 0;
  // A datagram's size and source address, or -errno (-EAGAIN: none).
  virtual long recv(int s, std::string* from) = 0;
  virtual std::string snmp() = 0;
};

std::string ntop(in_addr a) {
  char b[INET_ADDRSTRLEN];
  return inet_ntop(AF_INET, &a, b, sizeof b);
}

class KernelHost final : public Host {
 public:
  ~KernelHost() override {
    for (int fd : fds_) ::close(fd);
  }
  int open() override {
    fds_.push_back(::socket(AF_INET, SOCK_DGRAM, 0));
    return static_cast<int>(fds_.size() - 1);
  }
  long bind(int s, uint16_t port) override {
    sockaddr_in a = addr("0.0.0.0", port);
    return ret(::bind(fds_[s], reinterpret_cast<sockaddr*>(&a), sizeof a));
  }
  long connect(int s, const std::string& ip, uint16_t port) override {
    sockaddr_in a = addr(ip, port);
    return ret(::connect(fds_[s], reinterpret_cast<sockaddr*>(&a), sizeof a));
  }
  long send(int s, size_t n, const std::string& ip, uint16_t port, uint16_t gso) override {
    if (gso != 0) {
      int v = gso;
      if (::setsockopt(fds_[s], SOL_UDP, UDP_SEGMENT, &v, sizeof v) != 0) return -errno;
    }
    std::vector<char> data(n, 'x');
    sockaddr_in a = addr(ip, port);
    const long r = ip.empty() ? ::send(fds_[s], data.data(), n, 0)
                              : ::sendto(fds_[s], data.data(), n, 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
    return r < 0 ? -errno : r;
  }
  long cork(int s, bool on) override {
    int v = on ? 1 : 0;
    return ret(::setsockopt(fds_[s], SOL_UDP, UDP_CORK, &v, sizeof v));
  }
  long recv(int s, std::string* from) override {
    pollfd p{fds_[s], POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) return -EAGAIN;
    std::vector<char> buf(70000);
    sockaddr_in a{};
    socklen_t len = sizeof a;
    const long r = ::recvfrom(fds_[s], buf.data(), buf.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&a), &len);
    if (r < 0) return -errno;
    *from = ntop(a.sin_addr);
    return r;
  }
  std::string snmp() override {
    // This thread's namespace (/proc/self would be the process's).
    std::ifstream f("/proc/thread-self/net/snmp");
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }

 private:
  static sockaddr_in addr(const std::string& ip, uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    if (!ip.empty()) inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
    return a;
  }
  static long ret(int r) { return r < 0 ? -errno : 0; }
  std::vector<int> fds_;
};

class XnetHost final : public Host {
 public:
  int open() override {
    socks_.push_back(&net_.socket(0));
    return static_cast<int>(socks_.size() - 1);
  }
  long bind(int s, uint16_t port) override { return err(net_.stack(0).udp().bind(*socks_[s], wire::Ipv4Addr(), port)); }
  long connect(int s, const std::string& ip, uint16_t port) override {
    return err(net_.stack(0).udp().connect(*socks_[s], *wire::Ipv4Addr::parse(ip), port));
  }
  long send(int s, size_t n, const std::string& ip, uint16_t port, uint16_t gso) override {
    if (gso != 0 && !stack::udp_set_gso_size(*socks_[s], gso)) return -EINVAL;
    std::vector<std::byte> data(n, std::byte{'x'});
    std::optional<stack::SockAddrIn> dest;
    if (!ip.empty()) dest = stack::SockAddrIn{stack::kAfInet, {*wire::Ipv4Addr::parse(ip), port}};
    auto r = net_.send(0, *socks_[s], data, dest);
    net_.run();
    return r ? static_cast<long>(*r) : -r.error().value();
  }
  long cork(int s, bool on) override {
    const long r = err(stack::udp_set_cork(net_.stack(0), *socks_[s], on, net_.now()));
    net_.run();
    return r;
  }
  long recv(int s, std::string* from) override {
    std::vector<std::byte> buf(70000);
    auto r = stack::udp_recvmsg(net_.stack(0), *socks_[s], buf);
    if (!r) return -r.error().value();
    *from = r->source.addr.to_string();
    return static_cast<long>(r->size);
  }
  std::string snmp() override { return stack::format_snmp(net_.stats(0), false, 64); }
  ~XnetHost() override { net_.close_all(); }

 private:
  static long err(const Result<void>& r) { return r ? 0 : -r.error().value(); }
  stack::txtest::TxNet net_{2};  // stack 0 owns 10.0.1.1/24
  std::vector<stack::UdpSock*> socks_;
};

// What one run of a scenario saw.
struct Outcome {
  std::vector<std::string> events;  // each call's result, in order
  Snmp moved;                       // counter deltas (kCounters only)
};

using Scenario = std::function<void(Host&, std::vector<std::string>&)>;

Outcome run(Host& h, const Scenario& sc) {
  Outcome o;
  const Snmp before = parse_snmp(h.snmp());
  sc(h, o.events);
  const Snmp after = parse_snmp(h.snmp());
  for (const std::string& k : kCounters) {
    const long long d = after.count(k) ? after.at(k) - (before.count(k) ? before.at(k) : 0) : 0;
    if (d != 0) o.moved[k] = d;
  }
  return o;
}

std::string recv_event(Host& h, int s) {
  std::string from;
  const long n = h.recv(s, &from);
  return n < 0 ? "recv " + std::to_string(n) : "recv " + std::to_string(n) + " from " + from;
}

struct Case {
  const char* name;
  Scenario scenario;
};

std::vector<Case> cases() {
  std::vector<Case> v;
  for (size_t n : {size_t{1}, size_t{1472}, size_t{65507}}) {
    v.push_back({n == 1 ? "own address, 1 byte" : n == 1472 ? "own address, 1472 bytes" : "own address, 65507 bytes",
                 [n](Host& h, std::vector<std::string>& ev) {
                   const int r = h.open(), s = h.open();
                   ev.push_back("bind " + std::to_string(h.bind(r, kPort)));
                   ev.push_back("send " + std::to_string(h.send(s, n, kSelf, kPort)));
                   ev.push_back(recv_event(h, r));
                 }});
  }
  v.push_back({"connected to a closed local port",
               [](Host& h, std::vector<std::string>& ev) {
                 const int c = h.open();
                 ev.push_back("connect " + std::to_string(h.connect(c, kSelf, kClosedPort)));
                 ev.push_back("send " + std::to_string(h.send(c, 1, "", 0)));
                 ev.push_back(recv_event(h, c));  // the error the ICMP left
               }});
  v.push_back({"two sockets talk",
               [](Host& h, std::vector<std::string>& ev) {
                 const int server = h.open(), client = h.open();
                 ev.push_back("bind " + std::to_string(h.bind(server, kPort)));
                 ev.push_back("connect " + std::to_string(h.connect(client, kSelf, kPort)));
                 ev.push_back("send " + std::to_string(h.send(client, 100, "", 0)));
                 ev.push_back(recv_event(h, server));
               }});
  v.push_back({"cork 2 x 1000",
               [](Host& h, std::vector<std::string>& ev) {
                 const int r = h.open(), s = h.open();
                 ev.push_back("bind " + std::to_string(h.bind(r, kPort)));
                 ev.push_back("cork " + std::to_string(h.cork(s, true)));
                 ev.push_back("send " + std::to_string(h.send(s, 1000, kSelf, kPort)));
                 ev.push_back("send " + std::to_string(h.send(s, 1000, kSelf, kPort)));
                 ev.push_back("uncork " + std::to_string(h.cork(s, false)));
                 ev.push_back(recv_event(h, r));
                 ev.push_back(recv_event(h, r));
               }});
  v.push_back({"UDP_SEGMENT 3500 / 1000",
               [](Host& h, std::vector<std::string>& ev) {
                 const int r = h.open(), s = h.open();
                 ev.push_back("bind " + std::to_string(h.bind(r, kPort)));
                 ev.push_back("send " + std::to_string(h.send(s, 3500, kSelf, kPort, 1000)));
                 for (int i = 0; i < 5; ++i) ev.push_back(recv_event(h, r));
               }});
  // Unconnected: the port unreachable comes back, but only a connected socket
  // (or IP_RECVERR) hears of it.
  v.push_back({"sendto a closed local port",
               [](Host& h, std::vector<std::string>& ev) {
                 const int s = h.open();
                 ev.push_back("send " + std::to_string(h.send(s, 1, kSelf, kClosedPort)));
                 ev.push_back(recv_event(h, s));
               }});
  // One GSO packet crosses lo: one NoPorts, one port unreachable.
  v.push_back({"UDP_SEGMENT 3500 / 1000 to a closed local port",
               [](Host& h, std::vector<std::string>& ev) {
                 const int c = h.open();
                 ev.push_back("connect " + std::to_string(h.connect(c, kSelf, kClosedPort)));
                 ev.push_back("send " + std::to_string(h.send(c, 3500, "", 0, 1000)));
                 ev.push_back(recv_event(h, c));
               }});
  return v;
}

TEST(LocalDeliveryConformance, KernelAndXnetAgree) {
  XNET_REQUIRE_PRIVILEGED();
  netns::VethOptions vo;
  vo.kernel_side_addrs = {std::string(kSelf) + "/24"};
  std::string error;
  auto topo = netns::VethTopology::create(vo, &error);
  ASSERT_NE(topo, nullptr) << error;
  ASSERT_TRUE(topo->kernel_ns().exec("ip link set lo up").ok());
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    // The kernel twice: a scenario whose kernel runs disagree is not a reference.
    Outcome k1, k2;
    ASSERT_TRUE(topo->kernel_ns().run([&] {
      {
        KernelHost a;
        k1 = run(a, c.scenario);
      }  // its sockets closed: the second run binds the same ports
      KernelHost b;
      k2 = run(b, c.scenario);
    }));
    ASSERT_EQ(k1.events, k2.events);
    ASSERT_EQ(k1.moved, k2.moved);
    ASSERT_GT(k1.moved["Udp.OutDatagrams"], 0) << "the kernel's counters were not read";
    XnetHost x;
    Outcome xo = run(x, c.scenario);
    EXPECT_EQ(xo.events, k1.events);
    EXPECT_EQ(xo.moved, k1.moved);
  }
}

}  // namespace
}  // namespace xnet
