// The host sends. Every scenario binds a fixed local port (an ephemeral one
// would make quoted checksums incomparable) unless autobinding is the point.

#include <cerrno>

#include "tests/conformance/scenarios.h"

namespace xnet::conformance {
namespace {

constexpr uint16_t kLocal = 5000;

// A bound socket, the first call of most scenarios.
int bound(Ctx& c) {
  const int s = c.sock();
  c.bind(s, kLocal);
  return s;
}

SendArgs to_peer(size_t size, uint8_t seq = 0) {
  SendArgs a;
  a.size = size;
  a.seq = seq;
  a.to = Addr{kPeerIp, kPeerSink};
  return a;
}

void size_case(std::vector<Scenario>& v, size_t n) {
  v.push_back({"send " + std::to_string(n) + " bytes", [n](Ctx& c) { c.send(bound(c), to_peer(n)); }, {}});
}

void pmtu_case(std::vector<Scenario>& v, const char* mode_name, int mode, size_t n) {
  v.push_back({std::string("IP_MTU_DISCOVER ") + mode_name + ", send " + std::to_string(n),
               [mode, n](Ctx& c) {
                 const int s = bound(c);
                 c.opt(s, Opt::kMtuDiscover, mode);
                 c.send(s, to_peer(n));
                 c.send(s, to_peer(100, 1));
               },
               {}});
}

// SO_SNDBUF at its minimum (4608): ip_append_data takes the first fragment
// against the buffer and the others against twice the buffer, so a datagram of
// more than four wire fragments fails whole with ENOBUFS (SndbufErrors), as
// Linux 6.18 does (3000 bytes sent, 6000 ENOBUFS, blocking or not).
void sndbuf_case(std::vector<Scenario>& v, size_t n) {
  v.push_back({"SO_SNDBUF minimum, send " + std::to_string(n),
               [n](Ctx& c) {
                 const int s = bound(c);
                 c.opt(s, Opt::kSndBuf, 1);
                 c.send(s, to_peer(n));
                 c.send(s, to_peer(100, 1));
               },
               {}});
}

}  // namespace

std::vector<Scenario> send_scenarios() {
  std::vector<Scenario> v;

  // ---- sizes at the MTU boundaries -----------------------------------------
  for (size_t n : {0, 1, 1472, 1473, 2960, 65507, 65508}) size_case(v, n);
  for (size_t n : {3000, 5900, 6000, 65507}) sndbuf_case(v, n);

  // ---- IP_MTU_DISCOVER and DF ------------------------------------------------
  pmtu_case(v, "DONT", 0, 1000);
  pmtu_case(v, "DONT", 0, 1473);
  pmtu_case(v, "WANT", 1, 1472);
  pmtu_case(v, "WANT", 1, 1473);
  pmtu_case(v, "DO", 2, 1472);
  pmtu_case(v, "DO", 2, 1473);
  pmtu_case(v, "PROBE", 3, 1473);
  v.push_back({"IP_MTU_DISCOVER 6 is EINVAL",
               [](Ctx& c) { c.opt(bound(c), Opt::kMtuDiscover, 6); }, {}});
  // Connected sockets with DF number their datagrams (inet_id).
  v.push_back({"connected, DF: IDs of successive datagrams",
               [](Ctx& c) {
                 const int s = bound(c);
                 c.opt(s, Opt::kMtuDiscover, 2);
                 c.connect(s, kPeerIp, kPeerSink);
                 for (uint8_t i = 0; i < 3; ++i) {
                   SendArgs a;
                   a.size = 10;
                   a.seq = i;
                   c.send(s, a);
                 }
               },
               {}});

  // ---- MSG_MORE and UDP_CORK ------------------------------------------------
  v.push_back({"MSG_MORE 3 x 500 then a last 10",
               [](Ctx& c) {
                 const int s = bound(c);
                 for (uint8_t i = 0; i < 3; ++i) {
                   SendArgs a = to_peer(500, i);
                   a.more = true;
                   c.send(s, a);
                 }
                 c.send(s, to_peer(10, 3));
               },
               {}});
  v.push_back({"MSG_MORE 1000 + 1000 (fragments)",
               [](Ctx& c) {
                 const int s = bound(c);
                 SendArgs a = to_peer(1000);
                 a.more = true;
                 c.send(s, a);
                 c.send(s, to_peer(1000, 1));
               },
               {}});
  v.push_back({"MSG_MORE past 65507 is EMSGSIZE, then the rest",
               [](Ctx& c) {
                 const int s = bound(c);
                 SendArgs a = to_peer(40000);
                 a.more = true;
                 c.send(s, a);
                 a.seq = 1;
                 c.send(s, a);  // 80000: too much
                 c.send(s, to_peer(100, 2));
               },
               {}});
  v.push_back({"UDP_CORK 2 x 1000, uncork",
               [](Ctx& c) {
                 const int s = bound(c);
                 c.opt(s, Opt::kCork, 1);
                 c.send(s, to_peer(1000));
                 c.send(s, to_peer(1000, 1));
                 c.opt(s, Opt::kCork, 0);
               },
               {}});
  v.push_back({"UDP_CORK, a send fails in the middle, uncork",
               [](Ctx& c) {
                 const int s = bound(c);
                 c.opt(s, Opt::kCork, 1);
                 c.send(s, to_peer(30000));
                 c.send(s, to_peer(40000, 1));  // EMSGSIZE: the cork is dropped
                 c.send(s, to_peer(20, 2));
                 c.opt(s, Opt::kCork, 0);
               },
               {}});
  v.push_back({"UDP_CORK, uncork with nothing pending",
               [](Ctx& c) {
                 const int s = bound(c);
                 c.opt(s, Opt::kCork, 1);
                 c.opt(s, Opt::kCork, 0);
                 c.send(s, to_peer(5));
               },
               {}});
  v.push_back({"UDP_CORK, DF, corked past the MTU",
               [](Ctx& c) {
                 const int s = bound(c);
                 c.opt(s, Opt::kMtuDiscover, 2);
                 c.opt(s, Opt::kCork, 1);
                 c.send(s, to_peer(1000));
                 c.send(s, to_peer(1000, 1));
                 c.opt(s, Opt::kCork, 0);
               },
               {}});

  // ---- UDP_SEGMENT ----------------------------------------------------------
  auto gso = [&v](const std::string& name, int seg, size_t n, bool sockopt) {
    v.push_back({name, [=](Ctx& c) {
                   const int s = bound(c);
                   SendArgs a = to_peer(n);
                   if (sockopt) {
                     c.opt(s, Opt::kSegment, seg);
                   } else {
                     a.gso = seg;
                   }
                   c.send(s, a);
                 },
                 {}});
  };
  gso("UDP_SEGMENT cmsg 1000, 3500 bytes", 1000, 3500, false);
  gso("UDP_SEGMENT sockopt 1000, 3500 bytes", 1000, 3500, true);
  gso("UDP_SEGMENT 1472, 2944 bytes", 1472, 2944, false);
  gso("UDP_SEGMENT 1473, 2946 bytes (segment over the MTU)", 1473, 2946, false);
  gso("UDP_SEGMENT 1000, 800 bytes (one segment)", 1000, 800, false);
  gso("UDP_SEGMENT 100, 12800 bytes (128 segments)", 100, 12800, false);
  gso("UDP_SEGMENT 100, 12900 bytes (129 segments)", 100, 12900, false);
  gso("UDP_SEGMENT 1400, 65507 bytes", 1400, 65507, false);
  gso("UDP_SEGMENT 1473, 1473 bytes (one segment over the MTU)", 1473, 1473, false);
  v.push_back({"UDP_SEGMENT with SO_NO_CHECK is EINVAL",
               [](Ctx& c) {
                 const int s = bound(c);
                 c.opt(s, Opt::kNoCheck, 1);
                 SendArgs a = to_peer(3000);
                 a.gso = 1000;
                 c.send(s, a);
               },
               {}});
  v.push_back({"UDP_SEGMENT with MSG_MORE",
               [](Ctx& c) {
                 const int s = bound(c);
                 SendArgs a = to_peer(1500);
                 a.gso = 1000;
                 a.more = true;
                 c.send(s, a);
                 c.send(s, to_peer(1500, 1));
               },
               {}});

  // ---- per-send cmsgs and socket options ---------------------------------------
  v.push_back({"IP_TTL cmsg 5, then IP_TTL sockopt 9",
               [](Ctx& c) {
                 const int s = bound(c);
                 SendArgs a = to_peer(20);
                 a.ttl = 5;
                 c.send(s, a);
                 c.opt(s, Opt::kTtl, 9);
                 c.send(s, to_peer(20, 1));
               },
               {}});
  v.push_back({"IP_TTL cmsg 0 and 256 are EINVAL",
               [](Ctx& c) {
                 const int s = bound(c);
                 SendArgs a = to_peer(20);
                 a.ttl = 0;
                 c.send(s, a);
                 a.ttl = 256;
                 c.send(s, a);
                 c.opt(s, Opt::kTtl, 0);
               },
               {}});
  v.push_back({"IP_TOS cmsg 0x28, sockopt 0xb8",
               [](Ctx& c) {
                 const int s = bound(c);
                 SendArgs a = to_peer(20);
                 a.tos = 0x28;
                 c.send(s, a);
                 c.opt(s, Opt::kTos, 0xb8);
                 c.send(s, to_peer(20, 1));
                 a.tos = 256;
                 c.send(s, a);
               },
               {}});
  v.push_back({"IP_PKTINFO source = own address, ifindex = the interface",
               [](Ctx& c) {
                 const int s = bound(c);
                 SendArgs a = to_peer(30);
                 a.pktinfo_src = kHostIp;
                 a.pktinfo_ifindex = true;
                 c.send(s, a);
               },
               {}});
  v.push_back({"IP_PKTINFO source not ours",
               [](Ctx& c) {
                 const int s = bound(c);
                 SendArgs a = to_peer(30);
                 a.pktinfo_src = "10.77.0.50";
                 c.send(s, a);
               },
               {}});

  // ---- destinations -----------------------------------------------------------
  v.push_back({"subnet broadcast without SO_BROADCAST is EACCES",
               [](Ctx& c) {
                 const int s = bound(c);
                 c.sendto(s, 10, kSubnetBroadcast, kPeerSink);
               },
               {}});
  v.push_back({"subnet broadcast with SO_BROADCAST",
               [](Ctx& c) {
                 const int s = bound(c);
                 c.opt(s, Opt::kBroadcast, 1);
                 c.sendto(s, 10, kSubnetBroadcast, kPeerSink);
               },
               {}});
  v.push_back({"255.255.255.255 with SO_BROADCAST",
               [](Ctx& c) {
                 const int s = bound(c);
                 c.opt(s, Opt::kBroadcast, 1);
                 c.sendto(s, 10, "255.255.255.255", kPeerSink);
               },
               {}});
  v.push_back({"connect to the subnet broadcast without SO_BROADCAST",
               [](Ctx& c) {
                 const int s = bound(c);
                 c.connect(s, kSubnetBroadcast, kPeerSink);
               },
               {}});
  v.push_back({"no route is ENETUNREACH",
               [](Ctx& c) {
                 const int s = bound(c);
                 c.sendto(s, 10, "192.0.2.1", kPeerSink);
               },
               {}});
  v.push_back({"destination port 0 is EINVAL",
               [](Ctx& c) {
                 const int s = bound(c);
                 c.sendto(s, 10, kPeerIp, 0);
               },
               {}});
  v.push_back({"a neighbour that never answers ARP",
               [](Ctx& c) {
                 const int s = bound(c);
                 c.sendto(s, 10, "10.77.0.77", kPeerSink);
               },
               {}});
  // After three unanswered requests a second apart the kernel's neighbour
  // fails and the datagram's sender hears host unreachable.
  v.push_back({"a neighbour that never answers ARP, IP_RECVERR",
               [](Ctx& c) {
                 const int s = bound(c);
                 c.opt(s, Opt::kRecvErr, 1);
                 c.sendto(s, 10, "10.77.0.77", kPeerSink);
                 c.wait(3500);
                 c.recv_error(s);
                 c.so_error(s);
               },
               {}});
  v.push_back({"unbound socket autobinds on sendto",
               [](Ctx& c) {
                 const int s = c.sock();
                 c.sendto(s, 10, kPeerIp, kPeerSink);
               },
               {}});

  // ---- connect, send, sendto ------------------------------------------------------
  v.push_back({"send without connect is EDESTADDRREQ",
               [](Ctx& c) {
                 const int s = bound(c);
                 SendArgs a;
                 a.size = 10;
                 c.send(s, a);
               },
               {}});
  v.push_back({"connect, send, sendto another port, disconnect, send",
               [](Ctx& c) {
                 const int s = bound(c);
                 c.connect(s, kPeerIp, kPeerSink);
                 SendArgs a;
                 a.size = 10;
                 c.send(s, a);
                 c.sendto(s, 11, kPeerIp, kPeerSink + 2, 1);
                 c.disconnect(s);
                 c.send(s, a);
               },
               {}});
  v.push_back({"SO_NO_CHECK sends no UDP checksum",
               [](Ctx& c) {
                 const int s = bound(c);
                 c.opt(s, Opt::kNoCheck, 1);
                 c.send(s, to_peer(100));
                 c.send(s, to_peer(2000, 1));
               },
               {}});

  // ---- errors from the peer ---------------------------------------------------------
  v.push_back({"connected: port unreachable then ECONNREFUSED",
               [](Ctx& c) {
                 const int s = bound(c);
                 c.connect(s, kPeerIp, kPeerClosed);
                 SendArgs a;
                 a.size = 10;
                 c.send(s, a);
                 c.recv(s);
                 c.so_error(s);
                 c.send(s, a);
                 c.wait(100);
                 c.send(s, a);  // the error the second unreachable left
                 c.so_error(s);
               },
               {}});
  v.push_back({"unconnected: port unreachable is not reported",
               [](Ctx& c) {
                 const int s = bound(c);
                 c.sendto(s, 10, kPeerIp, kPeerClosed);
                 c.recv(s);
                 c.so_error(s);
               },
               {}});
  v.push_back({"IP_RECVERR unconnected: the error queue entry",
               [](Ctx& c) {
                 const int s = bound(c);
                 c.opt(s, Opt::kRecvErr, 1);
                 c.sendto(s, 10, kPeerIp, kPeerClosed);
                 c.recv_error(s);
                 c.recv_error(s, 50);
                 c.so_error(s);
               },
               {}});
  // The entry's data is the quoted payload: all of a small datagram, 520
  // bytes of a fragmented one (the port unreachable quotes 548 bytes of its
  // first fragment).
  v.push_back({"IP_RECVERR: the entry's data for a 3000-byte datagram",
               [](Ctx& c) {
                 const int s = bound(c);
                 c.opt(s, Opt::kRecvErr, 1);
                 c.sendto(s, 3000, kPeerIp, kPeerClosed);
                 c.recv_error(s);
               },
               {}});
  v.push_back({"IP_RECVERR connected: recv reports, then the queue",
               [](Ctx& c) {
                 const int s = bound(c);
                 c.opt(s, Opt::kRecvErr, 1);
                 c.connect(s, kPeerIp, kPeerClosed);
                 SendArgs a;
                 a.size = 10;
                 c.send(s, a);
                 c.recv(s);
                 c.recv_error(s);
                 c.recv(s, {.buf = 65536, .peek = false, .trunc = false, .wait_ms = 50});
               },
               {}});
  v.push_back({"IP_RECVERR local EMSGSIZE with DF",
               [](Ctx& c) {
                 const int s = bound(c);
                 c.opt(s, Opt::kRecvErr, 1);
                 c.opt(s, Opt::kMtuDiscover, 2);
                 c.send(s, to_peer(2000));
                 c.recv_error(s, 50);
               },
               {}});

  // ---- bind ---------------------------------------------------------------------------
  v.push_back({"bind twice is EINVAL, the same port twice EADDRINUSE",
               [](Ctx& c) {
                 const int s = bound(c);
                 c.bind(s, kLocal + 1);
                 const int t = c.sock();
                 c.bind(t, kLocal);
                 c.bind(t, kLocal, kHostIp);
               },
               {}});
  v.push_back({"bind to an address that is not ours is EADDRNOTAVAIL",
               [](Ctx& c) { c.bind(c.sock(), kLocal, "10.77.0.9"); }, {}});
  v.push_back({"bind to the subnet broadcast address",
               [](Ctx& c) { c.bind(c.sock(), kLocal, kSubnetBroadcast); }, {}});
  v.push_back({"bound to the address: 255.255.255.255 with SO_BROADCAST",
               [](Ctx& c) {
                 const int s = c.sock();
                 c.bind(s, kLocal, kHostIp);
                 c.opt(s, Opt::kBroadcast, 1);
                 c.sendto(s, 10, "255.255.255.255", kPeerSink);
               },
               {}});

  // ---- more options ---------------------------------------------------------------------
  v.push_back({"IP_TOS 0xff keeps the ECN bits on UDP",
               [](Ctx& c) {
                 const int s = bound(c);
                 c.opt(s, Opt::kTos, 0xff);
                 c.send(s, to_peer(20));
               },
               {}});
  v.push_back({"IP_TTL -1 restores the default",
               [](Ctx& c) {
                 const int s = bound(c);
                 c.opt(s, Opt::kTtl, 3);
                 c.opt(s, Opt::kTtl, -1);
                 c.opt(s, Opt::kTtl, 256);
                 c.send(s, to_peer(20));
               },
               {}});
  v.push_back({"TTL and TOS cmsgs on a fragmented datagram",
               [](Ctx& c) {
                 const int s = bound(c);
                 SendArgs a = to_peer(3000);
                 a.ttl = 7;
                 a.tos = 0x20;
                 c.send(s, a);
               },
               {}});
  v.push_back({"MSG_MORE then a send to another destination appends",
               [](Ctx& c) {
                 const int s = bound(c);
                 SendArgs a = to_peer(100);
                 a.more = true;
                 c.send(s, a);
                 c.sendto(s, 50, kPeerIp, kPeerSink + 3, 1);
               },
               {}});
  v.push_back({"UDP_CORK, then close: nothing sent",
               [](Ctx& c) {
                 const int s = bound(c);
                 c.opt(s, Opt::kCork, 1);
                 c.send(s, to_peer(100));
                 c.close(s);
               },
               {}});
  v.push_back({"UDP_SEGMENT 0 disables GSO",
               [](Ctx& c) {
                 const int s = bound(c);
                 c.opt(s, Opt::kSegment, 1000);
                 c.opt(s, Opt::kSegment, 0);
                 c.send(s, to_peer(3000));
               },
               {}});
  v.push_back({"UDP_SEGMENT 70000 is EINVAL",
               [](Ctx& c) { c.opt(bound(c), Opt::kSegment, 70000); }, {}});
  v.push_back({"UDP_SEGMENT with IP_MTU_DISCOVER DONT",
               [](Ctx& c) {
                 const int s = bound(c);
                 c.opt(s, Opt::kMtuDiscover, 0);
                 SendArgs a = to_peer(2500);
                 a.gso = 1000;
                 c.send(s, a);
               },
               {}});
  v.push_back({"UDP_SEGMENT 8, 20 bytes",
               [](Ctx& c) {
                 const int s = bound(c);
                 SendArgs a = to_peer(20);
                 a.gso = 8;
                 c.send(s, a);
               },
               {}});
  v.push_back({"UDP_SEGMENT with TTL and TOS cmsgs",
               [](Ctx& c) {
                 const int s = bound(c);
                 SendArgs a = to_peer(2500);
                 a.gso = 1000;
                 a.ttl = 3;
                 a.tos = 0x10;
                 c.send(s, a);
               },
               {}});

  // ---- more errors ------------------------------------------------------------------------
  v.push_back({"connected to the sink, sendto a closed port: no error",
               [](Ctx& c) {
                 const int s = bound(c);
                 c.connect(s, kPeerIp, kPeerSink);
                 c.sendto(s, 10, kPeerIp, kPeerClosed);
                 c.recv(s, {.buf = 65536, .peek = false, .trunc = false, .wait_ms = 150});
                 c.so_error(s);
               },
               {}});
  v.push_back({"IP_RECVERR off purges the queue",
               [](Ctx& c) {
                 const int s = bound(c);
                 c.opt(s, Opt::kRecvErr, 1);
                 c.sendto(s, 10, kPeerIp, kPeerClosed);
                 c.wait(100);
                 c.opt(s, Opt::kRecvErr, 0);
                 c.recv_error(s, 50);
                 c.so_error(s);
               },
               {}});
  v.push_back({"IP_RECVERR: two errors queued in order",
               [](Ctx& c) {
                 const int s = bound(c);
                 c.opt(s, Opt::kRecvErr, 1);
                 c.sendto(s, 10, kPeerIp, kPeerClosed);
                 // The first error back before the second send: the kernel's
                 // veth answers within the sendto, xnet's a little later.
                 c.wait(100);
                 c.sendto(s, 10, kPeerIp, kPeerClosed + 1, 1);
                 c.wait(100);
                 c.recv_error(s);
                 c.recv_error(s);
                 c.recv_error(s, 50);
               },
               {}});
  return v;
}

}  // namespace xnet::conformance
