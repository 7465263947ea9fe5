#pragma once
// Counters of one shard, named as the kernel names them in /proc/net/snmp
// (Ip:, Icmp:, IcmpMsg:, Udp:) and /proc/net/netstat (IpExt:), plus one counter
// per DropReason for the drops the kernel leaves without an SNMP counter (or
// names only as an skb drop reason). Shards own their Stats; readers sum them
// with operator+=. Plain integers: one shard writes, nobody locks.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace xnet::stack {

// Why a packet was dropped where no SNMP counter says it. Every drop site
// either moves an SNMP counter or one of these (sometimes both). Append only:
// the names table in stats.cc follows this order.
enum class DropReason : uint16_t {
  // Link layer (eth_rcv, vlan)
  kRuntFrame,          // shorter than an Ethernet header
  kOtherHost,          // unicast MAC not ours (PACKET_OTHERHOST)
  kMulticastNotJoined,  // multicast MAC of a group nobody joined
  kUnknownEtherType,   // neither ARP nor IPv4
  kVlanTagged,         // 802.1Q with a VLAN id other than 0
  // ARP / neighbour
  kArpMalformed,       // bad htype/ptype/lengths/opcode, truncated
  kArpBogusSender,     // sender MAC multicast/broadcast, sender IP martian or off-link
  kArpNotForUs,        // request for an address that is not ours
  kArpTableFull,       // gc_thresh3 reached
  kNeighQueueFull,     // unres_qlen reached while resolving
  kNeighFailed,        // resolution failed (3 probes)
  kNeighNoFrame,       // no frame for an ARP request
  // IPv4 receive (beside the Ip: counters)
  kIpOtherHost,        // L2 said PACKET_OTHERHOST
  kIpMartianSource,    // 0/8, 127/8, class E, multicast, broadcast, our own address
  kIpL2BroadcastUnicast,  // link-layer broadcast carrying a unicast destination (drop_unicast_in_l2_multicast)
  kIpSourceRouted,     // LSRR/SSRR with accept_source_route = 0
  kIpOptionsBad,       // malformed option (parameter problem sent)
  kIpMartianDest,      // 0/8, loopback or class E destination
  // Reassembly
  kFragOverlap,        // partial overlap: the queue was discarded
  kFragTooBig,         // offset + length beyond 65535
  kFragMemLimit,       // ipfrag_high_thresh reached: oldest queue evicted (or, several links, fragment refused)
  kFragFrameLimit,     // reassembly held its share of the link's frames (UMEM): oldest queue evicted
  kFragMalformed,      // zero-length or non-8-multiple non-last fragment, conflicting end
  kFragBadEcn,         // fragments with Not-ECT mixed with ECT or CE (ip_frag_ecn_table)
  kFragTimeout,        // queue expired
  kFragDuplicate,      // exact duplicate or subset ignored (not a datagram drop)
  // ICMP
  kIcmpBadType,        // unknown type, truncated message
  kIcmpBroadcastEcho,  // echo to a broadcast/multicast address (icmp_echo_ignore_broadcasts)
  kIcmpRateLimited,    // error suppressed by the rate limit
  kIcmpErrorSuppressed,  // no error about an error / broadcast / fragment / bad source
  kIcmpBogusError,     // error quoting something we never sent
  // UDP receive (beside the Udp: counters)
  kUdpShortPacket,     // length field < 8 or beyond the IP payload
  kUdpBroadcastNoPort,  // no socket for a broadcast/multicast (no ICMP)
  // Forwarding
  kForwardNotHost,     // only frames addressed to us at L2 are forwarded
  kForwardSourceRoute,  // strict source route through a gateway
  // Output
  kTxQueueFull,        // interface queue (txqueuelen) full
  kNoFrame,            // pool exhausted while building a packet
  kHookDrop,           // a hook returned kDrop
  kCount
};

std::string_view drop_reason_name(DropReason r);

struct IpStats {
  uint64_t InReceives = 0, InHdrErrors = 0, InAddrErrors = 0, ForwDatagrams = 0,
           InUnknownProtos = 0, InDiscards = 0, InDelivers = 0, OutRequests = 0,
           OutDiscards = 0, OutNoRoutes = 0, ReasmTimeout = 0, ReasmReqds = 0, ReasmOKs = 0,
           ReasmFails = 0, FragOKs = 0, FragFails = 0, FragCreates = 0, OutTransmits = 0;
};

// IpExt: of /proc/net/netstat: the receive counters that are not in Ip:.
struct IpExtStats {
  uint64_t InNoRoutes = 0, InTruncatedPkts = 0, InMcastPkts = 0, OutMcastPkts = 0,
           InBcastPkts = 0, OutBcastPkts = 0, InOctets = 0, OutOctets = 0, InMcastOctets = 0,
           OutMcastOctets = 0, InBcastOctets = 0, OutBcastOctets = 0, InCsumErrors = 0,
           InNoECTPkts = 0, InECT1Pkts = 0, InECT0Pkts = 0, InCEPkts = 0, ReasmOverlaps = 0;
  // ip_rcv_core's IPSTATS_MIB_NOECTPKTS + (tos & INET_ECN_MASK).
  // A switch, not a table of member pointers: the table was built on the
  // stack for every packet (ip_rcv in recv_bench).
  void count_ecn(uint8_t tos, uint64_t packets) {
    switch (tos & 3) {
      case 0: InNoECTPkts += packets; break;
      case 1: InECT1Pkts += packets; break;
      case 2: InECT0Pkts += packets; break;
      default: InCEPkts += packets; break;
    }
  }
};

struct IcmpStats {
  uint64_t InMsgs = 0, InErrors = 0, InCsumErrors = 0, InDestUnreachs = 0, InTimeExcds = 0,
           InParmProbs = 0, InSrcQuenchs = 0, InRedirects = 0, InEchos = 0, InEchoReps = 0,
           InTimestamps = 0, InTimestampReps = 0, InAddrMasks = 0, InAddrMaskReps = 0,
           OutMsgs = 0, OutErrors = 0, OutRateLimitGlobal = 0, OutRateLimitHost = 0,
           OutDestUnreachs = 0, OutTimeExcds = 0, OutParmProbs = 0, OutSrcQuenchs = 0,
           OutRedirects = 0, OutEchos = 0, OutEchoReps = 0, OutTimestamps = 0,
           OutTimestampReps = 0, OutAddrMasks = 0, OutAddrMaskReps = 0;
  // IcmpMsg: InTypeN / OutTypeN, per ICMP type.
  std::array<uint64_t, 256> InType{}, OutType{};
};

struct UdpStats {
  uint64_t InDatagrams = 0, NoPorts = 0, InErrors = 0, OutDatagrams = 0, RcvbufErrors = 0,
           SndbufErrors = 0, InCsumErrors = 0, IgnoredMulti = 0, MemErrors = 0;
};

// Cross-shard delivery (stack/udp/udp_handoff.h), no kernel counterpart: the
// kernel has one socket table per netns, xnet one per shard. Out: handed to
// another shard by this one; In: taken over from another shard; RingFull: not
// handed over because the ring to the target was full (dropped, counted
// nowhere else); NoFrame: taken over but no frame of this shard's pool was
// free for the copy, or an error not handed over for want of a frame to
// carry its quoted bytes (dropped).
struct HandoffStats {
  uint64_t DatagramsOut = 0, DatagramsIn = 0, ErrorsOut = 0, ErrorsIn = 0, RingFull = 0, NoFrame = 0;
};

struct Stats {
  IpStats ip;
  IpExtStats ip_ext;
  IcmpStats icmp;
  UdpStats udp;
  HandoffStats handoff;
  std::array<uint64_t, static_cast<size_t>(DropReason::kCount)> drops{};

  void drop(DropReason r) { drops[static_cast<size_t>(r)]++; }
  uint64_t dropped(DropReason r) const { return drops[static_cast<size_t>(r)]; }

  // Counts an ICMP message sent / received (IcmpMsg and the per-type Icmp: field).
  void icmp_out(uint8_t type);
  void icmp_in(uint8_t type);

  Stats& operator+=(const Stats& o);
};

// The Ip:, Icmp:, IcmpMsg:, Udp: lines exactly as /proc/net/snmp prints them
// (header line, value line; IcmpMsg only for types seen, as the kernel does).
// `forwarding` is 1 when forwarding is on, 2 when off; `default_ttl` the TTL.
std::string format_snmp(const Stats& s, bool forwarding, int default_ttl);
// The IpExt: lines of /proc/net/netstat (the fields xnet keeps).
std::string format_netstat(const Stats& s);
// "XnetHandoff:" header and value lines (HandoffStats).
std::string format_handoff(const Stats& s);
// "Drops:" header and value lines with one column per DropReason.
std::string format_drops(const Stats& s);

}  // namespace xnet::stack
