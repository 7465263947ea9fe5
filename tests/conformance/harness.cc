#include "tests/conformance/harness.h"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <set>
#include <sstream>
#include <thread>

namespace xnet::conformance {
namespace {

std::string addr_text(const Addr& a) { return a.ip + ":" + std::to_string(a.port); }

// Ephemeral ports differ by design between any two runs.
std::string port_text(uint16_t p) { return p >= 32768 && p <= 60999 ? "eph" : std::to_string(p); }

}  // namespace

// ---- Peer -------------------------------------------------------------------

std::unique_ptr<Peer> Peer::open(const netns::Netns& ns, const std::string& ifname, std::string* error) {
  std::unique_ptr<Peer> p(new Peer());
  ns.run([&] {
    p->ifindex_ = static_cast<int>(if_nametoindex(ifname.c_str()));
    p->capture_ = ::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
    p->inject_ = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    p->sink_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  });
  if (p->ifindex_ == 0 || p->capture_ < 0 || p->inject_ < 0 || p->sink_ < 0) {
    *error = "peer sockets: " + std::string(std::strerror(errno));
    return nullptr;
  }
  int big = 32 << 20;
  setsockopt(p->capture_, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
  setsockopt(p->sink_, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
  sockaddr_ll ll{};
  ll.sll_family = AF_PACKET;
  ll.sll_protocol = htons(ETH_P_ALL);
  ll.sll_ifindex = p->ifindex_;
  if (::bind(p->capture_, reinterpret_cast<sockaddr*>(&ll), sizeof ll) != 0) {
    *error = "bind capture: " + std::string(std::strerror(errno));
    return nullptr;
  }
  ll.sll_protocol = 0;
  if (::bind(p->inject_, reinterpret_cast<sockaddr*>(&ll), sizeof ll) != 0) {
    *error = "bind injector: " + std::string(std::strerror(errno));
    return nullptr;
  }
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(kPeerSink);
  inet_pton(AF_INET, kPeerIp, &sin.sin_addr);
  if (::bind(p->sink_, reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0) {
    *error = "bind sink: " + std::string(std::strerror(errno));
    return nullptr;
  }
  return p;
}

Peer::~Peer() {
  for (int fd : {capture_, inject_, sink_}) {
    if (fd >= 0) ::close(fd);
  }
}

void Peer::inject(const Bytes& frame) {
  sockaddr_ll ll{};
  ll.sll_family = AF_PACKET;
  ll.sll_ifindex = ifindex_;
  ll.sll_halen = 6;
  std::memcpy(ll.sll_addr, frame.data(), 6);
  (void)::sendto(inject_, frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&ll), sizeof ll);
}

std::vector<Bytes> Peer::drain() {
  std::vector<Bytes> out;
  Bytes buf(70000);
  for (int i = 0; i < 100000; ++i) {
    sockaddr_ll from{};
    socklen_t len = sizeof from;
    const ssize_t n = ::recvfrom(capture_, buf.data(), buf.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 0) break;
    if (from.sll_pkttype == PACKET_OUTGOING || n < 14) continue;
    const uint16_t type = static_cast<uint16_t>(buf[12] << 8 | buf[13]);
    if (type != kEthIpv4 && type != kEthArp && type != kEthVlan) continue;
    out.emplace_back(buf.begin(), buf.begin() + n);
  }
  return out;
}

// ---- Ctx --------------------------------------------------------------------

Record& Ctx::record(const char* op) {
  ev_.emplace_back();
  Record& r = ev_.back();
  r.what = "call " + std::to_string(ev_.size()) + " " + op;
  r.add("op", op);
  return r;
}

int Ctx::sock() {
  const int s = h_.socket();
  record("socket").add("socket", s);
  return s;
}

long Ctx::bind(int s, uint16_t port, const std::string& ip) {
  const long r = h_.bind(s, {ip, port});
  Record& e = record("bind");
  e.add("addr", ip + ":" + std::to_string(port));
  e.add("ret", r);
  return r;
}

long Ctx::connect(int s, const std::string& ip, uint16_t port) {
  const long r = h_.connect(s, {ip, port});
  Record& e = record("connect");
  e.add("addr", ip + ":" + std::to_string(port));
  e.add("ret", r);
  return r;
}

long Ctx::disconnect(int s) {
  const long r = h_.connect(s, {"", 0});
  record("connect(AF_UNSPEC)").add("ret", r);
  return r;
}

long Ctx::opt(int s, Opt o, int v) {
  const long r = h_.setopt(s, o, v);
  Record& e = record("setsockopt");
  e.add("opt", std::string(opt_name(o)) + "=" + std::to_string(v));
  e.add("ret", r);
  return r;
}

long Ctx::send(int s, const SendArgs& a) {
  const long r = h_.send(s, a);
  Record& e = record("sendmsg");
  e.add("size", static_cast<long long>(a.size));
  e.add("to", a.to ? addr_text(*a.to) : "-");
  e.add("ret", r);
  return r;
}

long Ctx::sendto(int s, size_t size, const std::string& ip, uint16_t port, uint8_t seq) {
  SendArgs a;
  a.size = size;
  a.seq = seq;
  a.to = Addr{ip, port};
  return send(s, a);
}

long Ctx::recv(int s, const RecvArgs& a) {
  const RecvOut o = h_.recv(s, a);
  Record& e = record("recvmsg");
  e.add("ret", o.ret);
  if (o.ret >= 0) {
    e.add("msg_flags", o.msg_trunc ? "MSG_TRUNC" : "-");
    e.add("from", o.from.ip + ":" + port_text(o.from.port));
    e.add("data", o.data);
    if (o.pktinfo_ifindex) {
      e.add("pktinfo.ifindex", *o.pktinfo_ifindex);
      e.add("pktinfo.spec_dst", *o.pktinfo_spec_dst);
      e.add("pktinfo.addr", *o.pktinfo_addr);
    }
    if (o.ttl) e.add("cmsg.ttl", *o.ttl);
    if (o.tos) e.add("cmsg.tos", *o.tos);
  }
  return o.ret;
}

void Ctx::recv_error(int s, int wait_ms) {
  const ErrOut o = h_.recv_error(s, wait_ms);
  Record& e = record("recvmsg(MSG_ERRQUEUE)");
  e.add("ret", o.ret);
  if (o.ret >= 0) {
    e.add("ee.errno", o.ee_errno);
    e.add("ee.origin", o.origin);
    e.add("ee.type", o.type);
    e.add("ee.code", o.code);
    e.add("ee.info", static_cast<long long>(o.info));
    e.add("ee.offender", o.offender);
    e.add("name", o.dest.ip + ":" + port_text(o.dest.port));
    e.add("data", o.data);
  }
}

long Ctx::so_error(int s) {
  const long r = h_.so_error(s);
  record("getsockopt(SO_ERROR)").add("value", r);
  return r;
}

long Ctx::close(int s) {
  const long r = h_.close(s);
  record("close").add("ret", r);
  return r;
}

void Ctx::wait(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

void Ctx::inject_udp(uint16_t sport, uint16_t dport, const Bytes& payload, Ipv4Spec ip, UdpSpec udp) {
  if (ip.src == 0) ip.src = ip4(kPeerIp);
  if (ip.dst == 0) ip.dst = ip4(kHostIp);
  ip.proto = 17;
  udp.sport = sport;
  udp.dport = dport;
  inject_ip(ipv4_packet(ip, udp_datagram(ip.src, ip.dst, udp, payload)));
}

const char* opt_name(Opt o) {
  switch (o) {
    case Opt::kTtl: return "IP_TTL";
    case Opt::kTos: return "IP_TOS";
    case Opt::kBroadcast: return "SO_BROADCAST";
    case Opt::kNoCheck: return "SO_NO_CHECK";
    case Opt::kMtuDiscover: return "IP_MTU_DISCOVER";
    case Opt::kSegment: return "UDP_SEGMENT";
    case Opt::kCork: return "UDP_CORK";
    case Opt::kRecvErr: return "IP_RECVERR";
    case Opt::kPktInfo: return "IP_PKTINFO";
    case Opt::kRecvTtl: return "IP_RECVTTL";
    case Opt::kRecvTos: return "IP_RECVTOS";
    case Opt::kRcvBuf: return "SO_RCVBUF";
    case Opt::kSndBuf: return "SO_SNDBUF";
  }
  return "?";
}

// ---- Run --------------------------------------------------------------------

std::unique_ptr<ScenarioRun> ScenarioRun::begin(const Scenario& sc, bool xnet) {
  std::unique_ptr<ScenarioRun> r(new ScenarioRun());
  r->sc_ = &sc;
  std::string error;
  netns::VethOptions vo;
  vo.kernel_side_addrs = {std::string(kPeerIp) + "/24"};
  if (!xnet) vo.xnet_side_kernel_addrs = {std::string(kHostIp) + "/24"};
  r->topo_ = netns::VethTopology::create(vo, &error);
  if (!r->topo_) {
    r->out_.error = "topology: " + error;
    return r;
  }
  netns::Netns& host_ns = r->topo_->xnet_ns();
  netns::Netns& peer_ns = r->topo_->kernel_ns();
  for (auto [ns, ifname] : {std::pair{&host_ns, r->topo_->xnet_if()}, std::pair{&peer_ns, r->topo_->kernel_if()}}) {
    const netns::CommandResult c = ns->exec("ethtool -K " + ifname + " tx off tx-udp-segmentation off");
    if (!c.ok()) {
      r->out_.error = "ethtool: " + c.output;
      return r;
    }
  }
  r->host_mac_ = *parse_mac(r->topo_->xnet_mac());
  r->peer_mac_ = *parse_mac(r->topo_->kernel_mac());
  r->peer_ = Peer::open(peer_ns, r->topo_->kernel_if(), &error);
  if (!r->peer_) {
    r->out_.error = error;
    return r;
  }
  r->host_ = xnet ? make_xnet_host(host_ns, r->topo_->xnet_if(), &error)
                  : make_kernel_host(host_ns, r->topo_->xnet_if(), &error);
  if (!r->host_) {
    r->out_.error = "host: " + error;
    return r;
  }
  r->snmp_before_ = r->host_->snmp();
  r->ctx_ = std::make_unique<Ctx>(*r->host_, *r->peer_, r->host_mac_, r->peer_mac_, r->out_.events);
  sc.body(*r->ctx_);
  return r;
}

Outcome ScenarioRun::finish() {
  if (!out_.error.empty()) return std::move(out_);
  if (sc_->after_reassembly_timeout) sc_->after_reassembly_timeout(*ctx_);
  // What the calls set off (ARP, ICMP, retransmitted nothing) has arrived.
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  const auto before = parse_snmp(snmp_before_);
  const auto after = parse_snmp(host_->snmp());
  std::set<std::string> keys;
  for (const auto& [k, v] : before) keys.insert(k);
  for (const auto& [k, v] : after) keys.insert(k);
  for (const std::string& k : keys) {
    // Constants, not counters.
    if (k == "Ip.Forwarding" || k == "Ip.DefaultTTL" || k.rfind("Tcp.", 0) == 0) continue;
    const long long d = (after.count(k) ? after.at(k) : 0) - (before.count(k) ? before.at(k) : 0);
    if (d != 0) out_.snmp[k] = d;
  }
  host_->shutdown();
  const std::vector<Bytes> frames = peer_->drain();
  Normaliser n;
  n.host_mac = host_mac_;
  n.peer_mac = peer_mac_;
  for (size_t i = 0; i < frames.size(); ++i) {
    Record rec = dissect(frames[i], n, frames);
    rec.what = "frame " + std::to_string(i + 1);
    out_.frames.push_back(std::move(rec));
  }
  return std::move(out_);
}

ScenarioRun::~ScenarioRun() {
  ctx_.reset();
  if (host_) host_->shutdown();
  host_.reset();
  peer_.reset();
  topo_.reset();
}

// ---- compare ------------------------------------------------------------------

namespace {

void compare_records(const char* section, const std::vector<Record>& k, const std::vector<Record>& x,
                     std::vector<Diff>& out) {
  const size_t n = std::min(k.size(), x.size());
  for (size_t i = 0; i < n; ++i) {
    const auto& kf = k[i].fields;
    const auto& xf = x[i].fields;
    const size_t m = std::max(kf.size(), xf.size());
    for (size_t j = 0; j < m; ++j) {
      const std::string kn = j < kf.size() ? kf[j].first : "(none)";
      const std::string xn = j < xf.size() ? xf[j].first : "(none)";
      const std::string kv = j < kf.size() ? kf[j].second : "(absent)";
      const std::string xv = j < xf.size() ? xf[j].second : "(absent)";
      if (kn == xn && kv == xv) continue;
      const std::string name = kn == xn ? kn : kn + "|" + xn;
      const std::string op = std::string(section) == "call" && !kf.empty() ? kf[0].second + "." : "";
      out.push_back({std::string(section) + " " + op + name,
                     k[i].what + ": " + name + ": kernel " + (kn == xn ? kv : kn + "=" + kv) + ", xnet " +
                         (kn == xn ? xv : xn + "=" + xv)});
      return;
    }
  }
  if (k.size() != x.size()) {
    const std::vector<Record>& longer = k.size() > x.size() ? k : x;
    std::string first;
    for (const auto& [name, value] : longer[n].fields) first += name + "=" + value + " ";
    out.push_back({std::string(section) + " count",
                   std::string(section) + "s: kernel " + std::to_string(k.size()) + ", xnet " +
                       std::to_string(x.size()) + " (first extra, " + (k.size() > x.size() ? "kernel" : "xnet") +
                       "'s " + longer[n].what + ": " + first + ")"});
  }
}

}  // namespace

std::vector<Diff> compare(const Outcome& k, const Outcome& x) {
  std::vector<Diff> out;
  compare_records("call", k.events, x.events, out);
  compare_records("frame", k.frames, x.frames, out);
  std::set<std::string> keys;
  for (const auto& [name, v] : k.snmp) keys.insert(name);
  for (const auto& [name, v] : x.snmp) keys.insert(name);
  for (const std::string& name : keys) {
    const long long kv = k.snmp.count(name) ? k.snmp.at(name) : 0;
    const long long xv = x.snmp.count(name) ? x.snmp.at(name) : 0;
    if (kv != xv) {
      out.push_back({"snmp " + name, "snmp " + name + ": kernel +" + std::to_string(kv) + ", xnet +" + std::to_string(xv)});
    }
  }
  return out;
}

std::vector<Accepted> parse_accepted(const std::string& md) {
  std::vector<Accepted> out;
  const size_t b = md.find("<!-- accepted:begin -->");
  const size_t e = md.find("<!-- accepted:end -->");
  if (b == std::string::npos || e == std::string::npos) return out;
  std::istringstream in(md.substr(b, e - b));
  std::string line;
  auto trim = [](std::string s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '`')) s.erase(s.begin());
    while (!s.empty() && (s.back() == ' ' || s.back() == '`')) s.pop_back();
    return s;
  };
  while (std::getline(in, line)) {
    if (line.size() < 2 || line[0] != '|') continue;
    std::vector<std::string> cols;
    size_t at = 1;
    for (;;) {
      const size_t next = line.find('|', at);
      if (next == std::string::npos) break;
      cols.push_back(trim(line.substr(at, next - at)));
      at = next + 1;
    }
    if (cols.size() < 3 || cols[0] == "Scenario" || cols[0].rfind("---", 0) == 0) continue;
    out.push_back({cols[0], cols[1], cols[2]});
  }
  return out;
}

std::map<std::string, long long> parse_snmp(const std::string& text) {
  std::map<std::string, long long> out;
  std::istringstream in(text);
  std::string names, values;
  while (std::getline(in, names) && std::getline(in, values)) {
    std::istringstream n(names), v(values);
    std::string group, name, value;
    n >> group;
    v >> value;
    if (group.empty()) continue;
    group.pop_back();
    while (n >> name && v >> value) out[group + "." + name] = std::stoll(value);
  }
  return out;
}

}  // namespace xnet::conformance
