#pragma once
// The differential harness: a scenario (socket calls on the host under test,
// frames the peer injects) runs on a fresh topology once per host kind; what
// it saw is an Outcome (every call's result, every frame the peer captured
// from the host, the SNMP deltas); two Outcomes compare field by field.
//
//   [ns host] veth end: the kernel (10.77.0.1/24) or xnet (XdpHost, same address)
//   [ns peer] veth end: 10.77.0.2/24, the peer's kernel (ARP, a sink socket on
//             9000, port unreachable for 9001), an AF_PACKET capture of every
//             frame from the host, and an AF_PACKET injector.
// Both ends: `ethtool -K tx off tx-udp-segmentation off` (complete checksums,
// real segments on the wire).

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "netns/netns.h"
#include "tests/conformance/frames.h"
#include "tests/conformance/host.h"

namespace xnet::conformance {

// The peer: capture, injection and the peer kernel's sink socket.
class Peer {
 public:
  static std::unique_ptr<Peer> open(const netns::Netns& ns, const std::string& ifname, std::string* error);
  ~Peer();
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;
  void inject(const Bytes& frame);
  // Every IPv4/ARP/VLAN frame received from the host since open (IPv6 noise
  // of the namespaces' link-up is not the scenario's).
  std::vector<Bytes> drain();

 private:
  Peer() = default;
  int capture_ = -1, inject_ = -1, sink_ = -1, ifindex_ = 0;
};

class Ctx;
struct Scenario {
  std::string name;
  std::function<void(Ctx&)> body;
  // Runs after the 30 s reassembly timer has expired (such scenarios are run
  // together, in one wait).
  std::function<void(Ctx&)> after_reassembly_timeout;
};

struct Outcome {
  std::string error;  // the run itself failed (topology, XDP)
  std::vector<Record> events;
  std::vector<Record> frames;
  std::map<std::string, long long> snmp;  // deltas, non-zero only
};

// What a scenario body uses: each call is made on the host and recorded.
class Ctx {
 public:
  Ctx(HostUnderTest& h, Peer& p, const Mac& host_mac, const Mac& peer_mac, std::vector<Record>& ev)
      : h_(h), p_(p), host_mac_(host_mac), peer_mac_(peer_mac), ev_(ev) {}

  int sock();
  long bind(int s, uint16_t port, const std::string& ip = "0.0.0.0");
  long connect(int s, const std::string& ip, uint16_t port);
  long disconnect(int s);
  long opt(int s, Opt o, int v);
  long send(int s, const SendArgs& a);
  long sendto(int s, size_t size, const std::string& ip, uint16_t port, uint8_t seq = 0);
  long recv(int s, const RecvArgs& a = {});
  void recv_error(int s, int wait_ms = 300);
  long so_error(int s);
  long close(int s);
  void wait(int ms);

  // The peer.
  const Mac& host_mac() const { return host_mac_; }
  const Mac& peer_mac() const { return peer_mac_; }
  void inject(const Bytes& frame) { p_.inject(frame); }
  // An IPv4 packet in an Ethernet frame from the peer to the host.
  void inject_ip(const Bytes& packet) { p_.inject(ethernet(host_mac_, peer_mac_, kEthIpv4, packet)); }
  // A UDP datagram from the peer (src) to the host.
  void inject_udp(uint16_t sport, uint16_t dport, const Bytes& payload, Ipv4Spec ip = {}, UdpSpec udp = {});

 private:
  Record& record(const char* op);
  HostUnderTest& h_;
  Peer& p_;
  Mac host_mac_, peer_mac_;
  std::vector<Record>& ev_;
};

// One run of a scenario: begin() builds the topology and the host and runs
// the body; finish() runs the after-timeout part, settles, and collects.
class ScenarioRun {
 public:
  static std::unique_ptr<ScenarioRun> begin(const Scenario& sc, bool xnet);
  Outcome finish();
  ~ScenarioRun();

 private:
  ScenarioRun() = default;
  const Scenario* sc_ = nullptr;
  std::unique_ptr<netns::VethTopology> topo_;
  std::unique_ptr<Peer> peer_;
  std::unique_ptr<HostUnderTest> host_;
  std::unique_ptr<Ctx> ctx_;
  Mac host_mac_{}, peer_mac_{};
  std::string snmp_before_;
  Outcome out_;
};

struct Diff {
  std::string key;   // what it is, without positions: "frame ip.ttl", "snmp Udp.NoPorts"
  std::string text;  // where, and both values
};
// Every difference: the first differing field of the calls, the first of the
// frames, and each differing counter.
std::vector<Diff> compare(const Outcome& kernel, const Outcome& xnet);

// Accepted differences: "scenario" ("*" = any) and key.
struct Accepted {
  std::string scenario;
  std::string key;
  std::string reason;
};
// Parses the table between <!-- accepted:begin --> and <!-- accepted:end -->.
std::vector<Accepted> parse_accepted(const std::string& markdown);

std::map<std::string, long long> parse_snmp(const std::string& text);

}  // namespace xnet::conformance
