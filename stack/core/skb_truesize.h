#pragma once
// The kernel's memory accounting for an skb (its truesize), which socket send
// buffers and the neighbour's unresolved queue are charged in.

#include <cstdint>

namespace xnet::stack {

// What ip_append_data adds to a fragment's length when it allocates its skb:
// the link-layer reserve (LL_RESERVED_SPACE, 16 for Ethernet) and 15.
inline constexpr uint32_t kSkbAllocExtra = 16 + 15;

// The truesize the kernel charges a socket for an skb whose linear part was
// asked for `alloclen` bytes: __alloc_skb aligns the data to a cache line and
// adds skb_shared_info (320), takes that from the small-head cache (576) or the
// next kmalloc size (a power of two), and the sk_buff itself adds 256.
// Measured with SIOCOUTQ on Linux 6.18 (tests/stack/tx/send_buffer_test.cc):
// a datagram of 1-197 bytes is charged 832, to 645 1280, to 1472 2304.
constexpr uint32_t skb_truesize(uint32_t alloclen) {
  const uint32_t wanted = ((alloclen + 63) & ~63u) + 320;
  uint32_t head = 576;
  if (wanted > head) {
    head = 1024;
    while (head < wanted) head *= 2;
  }
  return head + 256;
}

}  // namespace xnet::stack
