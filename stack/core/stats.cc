#include "stack/core/stats.h"

#include <fmt/format.h>

#include <iterator>

namespace xnet::stack {
namespace {

constexpr std::string_view kDropNames[] = {
    "RuntFrame",        "OtherHost",          "MulticastNotJoined", "UnknownEtherType",
    "VlanTagged",       "ArpMalformed",       "ArpBogusSender",     "ArpNotForUs",
    "ArpTableFull",     "NeighQueueFull",     "NeighFailed",        "NeighNoFrame",
    "IpOtherHost",      "IpMartianSource",    "IpL2BroadcastUnicast", "IpSourceRouted",
    "IpOptionsBad",     "IpMartianDest",      "FragOverlap",        "FragTooBig",
    "FragMemLimit",     "FragFrameLimit",     "FragMalformed",      "FragBadEcn",         "FragTimeout",        "FragDuplicate",
    "IcmpBadType",      "IcmpBroadcastEcho",  "IcmpRateLimited",    "IcmpErrorSuppressed",
    "IcmpBogusError",   "UdpShortPacket",     "UdpBroadcastNoPort", "ForwardNotHost",
    "ForwardSourceRoute", "TxQueueFull",      "NoFrame",            "HookDrop",
};
static_assert(std::size(kDropNames) == static_cast<size_t>(DropReason::kCount),
              "every DropReason needs a name");

// One "Prefix: names" line and one "Prefix: values" line, as the kernel prints them.
struct Lines {
  explicit Lines(std::string_view prefix) : names(prefix), values(prefix) {
    names += ':';
    values += ':';
  }
  void add(std::string_view name, uint64_t v) {
    names += ' ';
    names += name;
    fmt::format_to(std::back_inserter(values), " {}", v);
  }
  void add_signed(std::string_view name, int64_t v) {
    names += ' ';
    names += name;
    fmt::format_to(std::back_inserter(values), " {}", v);
  }
  void append_to(std::string& out) const {
    out += names;
    out += '\n';
    out += values;
    out += '\n';
  }
  std::string names, values;
};

#define XNET_FIELD(lines, s, f) lines.add(#f, (s).f)

}  // namespace

std::string_view drop_reason_name(DropReason r) { return kDropNames[static_cast<size_t>(r)]; }

namespace {

// The ICMP types with their own Icmp: field, as (in, out) member pointers.
struct IcmpTypeFields {
  uint8_t type;
  uint64_t IcmpStats::*in;
  uint64_t IcmpStats::*out;
};
constexpr IcmpTypeFields kIcmpTypeFields[] = {
    {0, &IcmpStats::InEchoReps, &IcmpStats::OutEchoReps},
    {3, &IcmpStats::InDestUnreachs, &IcmpStats::OutDestUnreachs},
    {4, &IcmpStats::InSrcQuenchs, &IcmpStats::OutSrcQuenchs},
    {5, &IcmpStats::InRedirects, &IcmpStats::OutRedirects},
    {8, &IcmpStats::InEchos, &IcmpStats::OutEchos},
    {11, &IcmpStats::InTimeExcds, &IcmpStats::OutTimeExcds},
    {12, &IcmpStats::InParmProbs, &IcmpStats::OutParmProbs},
    {13, &IcmpStats::InTimestamps, &IcmpStats::OutTimestamps},
    {14, &IcmpStats::InTimestampReps, &IcmpStats::OutTimestampReps},
    {17, &IcmpStats::InAddrMasks, &IcmpStats::OutAddrMasks},
    {18, &IcmpStats::InAddrMaskReps, &IcmpStats::OutAddrMaskReps},
};

const IcmpTypeFields* icmp_fields(uint8_t type) {
  for (const auto& f : kIcmpTypeFields) {
    if (f.type == type) return &f;
  }
  return nullptr;
}

}  // namespace

void Stats::icmp_out(uint8_t type) {
  icmp.OutType[type]++;
  if (const auto* f = icmp_fields(type)) (icmp.*(f->out))++;
  icmp.OutMsgs++;
}

void Stats::icmp_in(uint8_t type) {
  icmp.InType[type]++;
  if (const auto* f = icmp_fields(type)) (icmp.*(f->in))++;
}

Stats& Stats::operator+=(const Stats& o) {
  // Every counter struct is a run of uint64_t (plus arrays of them): sum word by word.
  auto add_words = [](auto& dst, const auto& src) {
    static_assert(sizeof(dst) % sizeof(uint64_t) == 0);
    auto* d = reinterpret_cast<uint64_t*>(&dst);
    const auto* s = reinterpret_cast<const uint64_t*>(&src);
    for (size_t i = 0; i < sizeof(dst) / sizeof(uint64_t); ++i) d[i] += s[i];
  };
  add_words(ip, o.ip);
  add_words(ip_ext, o.ip_ext);
  add_words(icmp, o.icmp);
  add_words(udp, o.udp);
  add_words(handoff, o.handoff);
  add_words(drops, o.drops);
  return *this;
}

std::string format_snmp(const Stats& s, bool forwarding, int default_ttl) {
  std::string out;
  Lines ip("Ip");
  ip.add("Forwarding", forwarding ? 1 : 2);
  ip.add("DefaultTTL", static_cast<uint64_t>(default_ttl));
  XNET_FIELD(ip, s.ip, InReceives);
  XNET_FIELD(ip, s.ip, InHdrErrors);
  XNET_FIELD(ip, s.ip, InAddrErrors);
  XNET_FIELD(ip, s.ip, ForwDatagrams);
  XNET_FIELD(ip, s.ip, InUnknownProtos);
  XNET_FIELD(ip, s.ip, InDiscards);
  XNET_FIELD(ip, s.ip, InDelivers);
  XNET_FIELD(ip, s.ip, OutRequests);
  XNET_FIELD(ip, s.ip, OutDiscards);
  XNET_FIELD(ip, s.ip, OutNoRoutes);
  XNET_FIELD(ip, s.ip, ReasmTimeout);
  XNET_FIELD(ip, s.ip, ReasmReqds);
  XNET_FIELD(ip, s.ip, ReasmOKs);
  XNET_FIELD(ip, s.ip, ReasmFails);
  XNET_FIELD(ip, s.ip, FragOKs);
  XNET_FIELD(ip, s.ip, FragFails);
  XNET_FIELD(ip, s.ip, FragCreates);
  XNET_FIELD(ip, s.ip, OutTransmits);
  ip.append_to(out);

  Lines icmp("Icmp");
  const auto& c = s.icmp;
  XNET_FIELD(icmp, c, InMsgs);
  XNET_FIELD(icmp, c, InErrors);
  XNET_FIELD(icmp, c, InCsumErrors);
  XNET_FIELD(icmp, c, InDestUnreachs);
  XNET_FIELD(icmp, c, InTimeExcds);
  XNET_FIELD(icmp, c, InParmProbs);
  XNET_FIELD(icmp, c, InSrcQuenchs);
  XNET_FIELD(icmp, c, InRedirects);
  XNET_FIELD(icmp, c, InEchos);
  XNET_FIELD(icmp, c, InEchoReps);
  XNET_FIELD(icmp, c, InTimestamps);
  XNET_FIELD(icmp, c, InTimestampReps);
  XNET_FIELD(icmp, c, InAddrMasks);
  XNET_FIELD(icmp, c, InAddrMaskReps);
  XNET_FIELD(icmp, c, OutMsgs);
  XNET_FIELD(icmp, c, OutErrors);
  XNET_FIELD(icmp, c, OutRateLimitGlobal);
  XNET_FIELD(icmp, c, OutRateLimitHost);
  XNET_FIELD(icmp, c, OutDestUnreachs);
  XNET_FIELD(icmp, c, OutTimeExcds);
  XNET_FIELD(icmp, c, OutParmProbs);
  XNET_FIELD(icmp, c, OutSrcQuenchs);
  XNET_FIELD(icmp, c, OutRedirects);
  XNET_FIELD(icmp, c, OutEchos);
  XNET_FIELD(icmp, c, OutEchoReps);
  XNET_FIELD(icmp, c, OutTimestamps);
  XNET_FIELD(icmp, c, OutTimestampReps);
  XNET_FIELD(icmp, c, OutAddrMasks);
  XNET_FIELD(icmp, c, OutAddrMaskReps);
  icmp.append_to(out);

  // IcmpMsg: only the types seen, all InTypeN then all OutTypeN, at most 16
  // per line pair, as icmpmsg_put walks its 512-entry table.
  {
    Lines msg("IcmpMsg");
    int on_line = 0;
    auto put = [&](std::string name, uint64_t v) {
      msg.add(name, v);
      if (++on_line == 16) {
        msg.append_to(out);
        msg = Lines("IcmpMsg");
        on_line = 0;
      }
    };
    for (int t = 0; t < 256; ++t) {
      if (c.InType[t] != 0) put(fmt::format("InType{}", t), c.InType[t]);
    }
    for (int t = 0; t < 256; ++t) {
      if (c.OutType[t] != 0) put(fmt::format("OutType{}", t), c.OutType[t]);
    }
    if (on_line != 0) msg.append_to(out);
  }

  Lines udp("Udp");
  XNET_FIELD(udp, s.udp, InDatagrams);
  XNET_FIELD(udp, s.udp, NoPorts);
  XNET_FIELD(udp, s.udp, InErrors);
  XNET_FIELD(udp, s.udp, OutDatagrams);
  XNET_FIELD(udp, s.udp, RcvbufErrors);
  XNET_FIELD(udp, s.udp, SndbufErrors);
  XNET_FIELD(udp, s.udp, InCsumErrors);
  XNET_FIELD(udp, s.udp, IgnoredMulti);
  XNET_FIELD(udp, s.udp, MemErrors);
  udp.append_to(out);
  return out;
}

std::string format_netstat(const Stats& s) {
  std::string out;
  Lines e("IpExt");
  XNET_FIELD(e, s.ip_ext, InNoRoutes);
  XNET_FIELD(e, s.ip_ext, InTruncatedPkts);
  XNET_FIELD(e, s.ip_ext, InMcastPkts);
  XNET_FIELD(e, s.ip_ext, OutMcastPkts);
  XNET_FIELD(e, s.ip_ext, InBcastPkts);
  XNET_FIELD(e, s.ip_ext, OutBcastPkts);
  XNET_FIELD(e, s.ip_ext, InOctets);
  XNET_FIELD(e, s.ip_ext, OutOctets);
  XNET_FIELD(e, s.ip_ext, InMcastOctets);
  XNET_FIELD(e, s.ip_ext, OutMcastOctets);
  XNET_FIELD(e, s.ip_ext, InBcastOctets);
  XNET_FIELD(e, s.ip_ext, OutBcastOctets);
  XNET_FIELD(e, s.ip_ext, InCsumErrors);
  XNET_FIELD(e, s.ip_ext, InNoECTPkts);
  XNET_FIELD(e, s.ip_ext, InECT1Pkts);
  XNET_FIELD(e, s.ip_ext, InECT0Pkts);
  XNET_FIELD(e, s.ip_ext, InCEPkts);
  XNET_FIELD(e, s.ip_ext, ReasmOverlaps);
  e.append_to(out);
  return out;
}

std::string format_handoff(const Stats& s) {
  std::string out;
  Lines h("XnetHandoff");
  XNET_FIELD(h, s.handoff, DatagramsOut);
  XNET_FIELD(h, s.handoff, DatagramsIn);
  XNET_FIELD(h, s.handoff, ErrorsOut);
  XNET_FIELD(h, s.handoff, ErrorsIn);
  XNET_FIELD(h, s.handoff, RingFull);
  XNET_FIELD(h, s.handoff, NoFrame);
  h.append_to(out);
  return out;
}

std::string format_drops(const Stats& s) {
  std::string out;
  Lines d("XnetDrops");
  for (size_t i = 0; i < s.drops.size(); ++i) d.add(kDropNames[i], s.drops[i]);
  d.append_to(out);
  return out;
}

}  // namespace xnet::stack
