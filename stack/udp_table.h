#pragma once
// The UDP socket table (udp_table): socket lifetime, bind / connect with the
// kernel's errors, ephemeral ports, reuseport groups, and the receive lookup
// (connected 4-tuple first, then bound address, then wildcard).
// Implemented in udp_table.cc; the contract other parts rely on:

#include <cstdint>

#include "runtime/result.h"
#include "stack/wire/addr.h"

namespace xnet::stack {

class Stack;
struct UdpSock;

class UdpTable;  // UdpTable(Stack&); UdpSock* open(); void close(UdpSock*); bind/connect/lookup

// inet_autobind: an ephemeral port in 32768–60999 for an unbound socket.
// EAGAIN when the range is exhausted.
Result<void> udp_autobind(Stack& stack, UdpSock& sk);

}  // namespace xnet::stack
