// One Ethernet frame into a stack that owns 10.0.0.1 and has bound,
// connected and small-buffered UDP sockets: eth_rcv → ARP / ip_rcv (options,
// reassembly, forwarding refusal) → UDP delivery / ICMP. The sockets are
// drained the way the input's last byte says, then every timer runs out and
// every frame must be back in its pool (see fuzz_net.h).

#include "tests/fuzz/fuzz_net.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  xnet::fuzz::FuzzNet net;
  const auto* frame = reinterpret_cast<const std::byte*>(data);
  net.deliver({frame, size});
  net.check();
  net.drain(size == 0 ? 0 : data[size - 1]);
  net.settle();
  return 0;
}
