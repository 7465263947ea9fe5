#pragma once
// UdpHandoff: where a shard's UDP sends what no socket of its own takes.
//
// The kernel's socket lookup is global per network namespace. xnet runs one
// Stack per shard, each seeing only the receive queue(s) of its shard, and the
// NIC picks the queue by its own hash: a reply for a client socket of shard 1
// may well land on shard 0. So a lookup miss is not the end: the stack asks
// its handoff (installed by the layer that composes the shards, stack/api) to
// pass the datagram, or the ICMP error quoting one of our datagrams, to a
// shard that has a socket on that port. Only when no shard has one does the
// datagram become NoPorts and a port unreachable, as in the kernel.
//
// `tried` is the set of shards (bit i = shard i) that already looked the
// datagram up and missed, so a datagram visits each candidate at most once
// and the last miss answers with the port unreachable. The handoff also
// hears which ports this stack's table hashes sockets on (bind, autobind on
// connect or send, close), the directory it forwards by.
//
// A lower layer reaching the one above only through this indirection, as it
// does through the protocol table's err_handler.

#include <cstdint>

#include "stack/core/packet.h"
#include "stack/core/protocol.h"

namespace xnet::stack {

using ShardMask = uint64_t;  // bit i: shard i (64 shards at most)

class UdpHandoff {
 public:
  virtual ~UdpHandoff() = default;

  // The table hashed (unhashed) one socket on `port`. Called per socket: a
  // port stays owned while any socket of this stack is hashed on it.
  virtual void port_hashed(uint16_t port) = 0;
  virtual void port_unhashed(uint16_t port) = 0;

  // A unicast datagram for local port `dport` that no socket here takes
  // (checksum verified). `head`: data() at the UDP header, the network header
  // and meta() as udp_rcv got them; `rest`: a reassembled datagram's other
  // frames. True: taken (both moved out, the handoff accounts for it, also
  // when it had to drop it); false: no other shard has a socket on `dport`,
  // both left to the caller.
  virtual bool hand_over_datagram(Packet& head, PacketQueue& rest, uint16_t dport, ShardMask tried) = 0;

  // An ICMP error quoting a datagram we sent from local port `err.sport` that
  // no socket here sent. True: passed on (or dropped, counted, for a full
  // ring); false: no other shard has a socket on the port.
  virtual bool hand_over_error(const IcmpErrorInfo& err, ShardMask tried) = 0;
};

}  // namespace xnet::stack
