#pragma once
// PortClaims: where a stack asks its host for a UDP port before a socket
// takes it. Owned address: nobody else uses the address, so no host sets one
// and every free port is the stack's. Shared address (the kernel keeps it,
// xdp/shared_ports.h): the port must be held in the kernel too, so that no
// kernel application binds it, and the steering program must learn that
// datagrams to it are xnet's. The socket table claims when it hashes a socket
// on a port and releases when it unhashes it (once per socket: the host
// counts).
//
// Called on the stack's thread; one host object may serve several stacks
// (shards), so an implementation shared between them is thread-safe.

#include <cstdint>

#include "stack/core/packet.h"

namespace xnet::stack {

class PortClaims {
 public:
  virtual ~PortClaims() = default;
  // False when the host cannot give the port (a kernel socket holds it): the
  // bind fails with EADDRINUSE, an ephemeral search tries the next port.
  virtual bool claim(uint16_t port) = 0;
  virtual void release(uint16_t port) = 0;

  // A datagram for a port no socket of the stack holds (udp_rcv found none).
  // True when the host took it (a shared address: the kernel's port, reached
  // xnet because its first fragment came last, so the steering program took
  // the whole datagram): the stack then neither answers port unreachable nor
  // counts NoPorts — the kernel does what it does with it. `head` is at the
  // UDP header (network header set), `rest` the reassembled datagram's other
  // fragments. False (the default): the stack's usual answer.
  virtual bool hand_back(const Packet& /*head*/, const PacketQueue& /*rest*/) { return false; }
};

}  // namespace xnet::stack
