// A sequence of frames with clock advances and socket reads in between: what
// one frame cannot reach — reassembly across fragments (overlaps, eviction,
// timeouts), ARP pending queues and neighbour timers, ICMP rate limits.
//
// Input: a role byte (bit 0: the host forwards), then records, each an op
// byte then its operands —
//   op % 4 == 0 or 1: a frame (16-bit length, then the bytes) to the host;
//   op % 4 == 2:      the clock moves by (16-bit) milliseconds;
//   op % 4 == 3:      the sockets are drained, in the style of the next byte.

#include <chrono>

#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/fuzz_net.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  xnet::fuzz::FuzzInput in(data, size);
  // The first byte picks the role (bit 0: a forwarding router).
  xnet::fuzz::FuzzNet net((in.u8() & 1) != 0 ? xnet::fuzz::Role::kRouter : xnet::fuzz::Role::kHost);
  for (int ops = 0; !in.empty() && ops < 256; ++ops) {
    const uint8_t op = in.u8();
    switch (op % 4) {
      case 0:
      case 1:
        net.deliver(in.chunk());
        break;
      case 2:
        net.advance(std::chrono::milliseconds(in.u16()));
        break;
      default:
        net.drain(in.u8());
        break;
    }
    net.check();
  }
  net.settle();
  return 0;
}
