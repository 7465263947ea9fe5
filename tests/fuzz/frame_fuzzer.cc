// One Ethernet frame into a stack that owns 10.0.0.1 and has bound,
// connected and small-buffered UDP sockets: eth_rcv → ARP / ip_rcv (options,
// reassembly, forwarding or its refusal) → UDP delivery / ICMP. The input's
// last byte picks the stack's role (host or router) and how the sockets are
// drained; then every timer runs out and every frame must be back in its
// pool (see fuzz_net.h).

#include "tests/fuzz/fuzz_net.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The last byte also picks the role: bit 7 set, a forwarding router.
  const uint8_t last = size == 0 ? 0 : data[size - 1];
  xnet::fuzz::FuzzNet net((last & 0x80) != 0 ? xnet::fuzz::Role::kRouter : xnet::fuzz::Role::kHost);
  const auto* frame = reinterpret_cast<const std::byte*>(data);
  net.deliver({frame, size});
  net.check();
  net.drain(last);
  net.settle();
  return 0;
}
