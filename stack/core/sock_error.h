#pragma once
// One entry of a socket's error queue (struct sock_extended_err with its
// offender), as ip_icmp_error and ip_local_error build it. Below the transport
// layer because IPv4's send path reports local errors (ip_local_error) to
// whichever socket owns the send buffer, without knowing what kind it is.

#include <cstddef>
#include <cstdint>
#include <system_error>
#include <vector>

#include "stack/wire/addr.h"

namespace xnet::stack {

// SO_EE_ORIGIN_*.
enum class ErrOrigin : uint8_t { kNone = 0, kLocal = 1, kIcmp = 2 };

// One entry of the error queue (IP_RECVERR: sock_extended_err + the offender).
struct SockError {
  std::errc err{};
  ErrOrigin origin = ErrOrigin::kNone;
  uint8_t type = 0;   // ICMP type
  uint8_t code = 0;   // ICMP code
  uint32_t info = 0;  // e.g. the next-hop MTU of "fragmentation needed"
  wire::Ipv4Addr offender;    // the ICMP sender (SO_EE_OFFENDER)
  wire::Ipv4Addr dest_addr;   // the original datagram's destination
  uint16_t dest_port = 0;
  // What a MSG_ERRQUEUE read returns as data: for an ICMP error the quoted
  // datagram's payload after its UDP header, as far as the ICMP message
  // carried it (Linux 6.18: all 100 bytes of a 100-byte datagram, 520 of a
  // fragmented 3000-byte one); nothing for a local error (ip_local_error).
  std::vector<std::byte> payload;
};

}  // namespace xnet::stack
