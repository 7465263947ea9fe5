#pragma once
// A UDP socket's addresses: the endpoint (address and port) recvmsg reports
// and bind / connect / send take, and sendmsg's msg_name, which is that
// endpoint with the address family the caller named.

#include <cstdint>

#include "stack/wire/addr.h"

namespace xnet::stack {

// An IPv4 address and a UDP port (host order) (xnet::Endpoint).
struct Endpoint {
  wire::Ipv4Addr addr{};
  uint16_t port = 0;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

inline constexpr uint16_t kAfUnspec = 0;  // AF_UNSPEC
inline constexpr uint16_t kAfInet = 2;    // AF_INET

// msg_name: a sockaddr_in. Family AF_INET (AF_UNSPEC is taken as AF_INET, as
// the kernel does); any other family is EAFNOSUPPORT.
struct SockAddrIn {
  uint16_t family = kAfInet;
  Endpoint to;
};

}  // namespace xnet::stack
