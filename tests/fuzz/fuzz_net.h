#pragma once
// The network every stack fuzz target runs in: two stacks on a MemoryLink
// pair (tests/stack/support MemNet), stack 0 under test (10.0.0.1, MAC
// 02::01) and stack 1 its peer (10.0.0.2, 02::02), on a manual clock.
//
// Stack 0 holds sockets worth reaching: a wildcard server on port 7, a
// socket connected to the peer's port 9 with IP_RECVERR (ICMP errors queue),
// one on port 11 with the smallest receive buffer (drops), and the peer has
// a server on port 9. drain() reads every socket the ways an application
// can (peek, truncation, zero-copy, the error queue); check() aborts with a
// message when an invariant fails, which libFuzzer reports as a crash:
//   - no socket holds more than its receive buffer (one datagram may always
//     be queued, as in __udp_enqueue_schedule_skb);
//   - after settle(): reassembly memory is 0 (its timer ran), no neighbour
//     holds queued packets, and every frame of both pools is back.
//
// The two stacks are built once per process (a FuzzNet per input opens its
// sockets on them and closes them in settle()), so an execution costs a few
// microseconds; settle() returns every resource, which is also what makes
// one input's leftovers unable to hide in the next one.

#include <cstddef>
#include <span>
#include <unordered_map>
#include <vector>

#include "stack/core/stack.h"
#include "stack/udp/udp_sock.h"
#include "tests/stack/support/mem_net.h"

namespace xnet::fuzz {

using stack::UdpSock;
using stack::support::Bytes;

// kRouter: the host forwards (ip_forward, accept_source_route) and has a
// default route through the peer, so ip_forward, redirects, TTL expiry and
// source routes are reachable; kHost: forwarding off, as a service runs.
enum class Role { kHost, kRouter };

class FuzzNet {
 public:
  explicit FuzzNet(Role role = Role::kHost);
  ~FuzzNet();

  stack::support::MemNet& net() { return net_; }
  stack::Stack& host() { return net_.stack(0); }
  stack::Stack& peer() { return net_.stack(1); }
  stack::TimePoint now() const { return net_.now(); }

  // `frame` arrives at the host as if the peer had sent it; the stacks run.
  void deliver(std::span<const std::byte> frame);
  // Moves the clock (timers fire) and runs.
  void advance(std::chrono::milliseconds dt);
  // Reads everything queued on every socket; `style` picks how (peek first,
  // a short buffer, zero-copy...), so inputs reach every receive path.
  void drain(uint8_t style);
  // The invariants that hold at any time.
  void check() const;
  // Drains, closes the host's sockets, lets every timer run out
  // (reassembly, ARP retries) and checks that every resource is back. The
  // end of an input.
  void settle();

  // Host sockets the targets may use; stay valid (the fuzz net owns them).
  std::vector<UdpSock*>& sockets() { return sockets_; }
  UdpSock* open_socket();
  void close_socket(size_t i);
  // SO_RCVBUF changed on `sk`: what it already holds stays queued (the kernel
  // never drops queued datagrams for a smaller buffer), so until it drains it
  // may hold more than the new rcvbuf; nothing new may join while it does.
  void rcvbuf_changed(const UdpSock& sk);

 private:
  stack::support::MemNet& net_;
  std::vector<UdpSock*> sockets_;
  UdpSock* peer_server_ = nullptr;
  // Per socket: rmem_alloc when its rcvbuf shrank under it (see rcvbuf_changed).
  std::unordered_map<const UdpSock*, uint32_t> held_over_;
};

// Aborts with `what` (a failed invariant is a finding, like a crash).
[[noreturn]] void fail(const char* what);

}  // namespace xnet::fuzz
