#include "xdp/multi_buffer.h"

#include <algorithm>
#include <cstring>

#include "xdp/xdp_uapi_compat.h"

namespace xnet::xdp {

uint32_t split_tx(uint64_t addr, uint32_t len, uint32_t chunk, uint32_t first_options,
                  std::span<xdp_desc> out) {
  uint32_t n = 0;
  uint32_t options = first_options;
  while (len > 0) {
    if (n == out.size()) return 0;
    const uint32_t to_boundary = chunk - static_cast<uint32_t>(addr % chunk);
    const uint32_t piece = std::min(len, to_boundary);
    len -= piece;
    out[n++] = xdp_desc{addr, piece, options | (len > 0 ? uapi::kPktContd : 0u)};
    addr += piece;
    options = 0;  // TX metadata describes the packet: first descriptor only
  }
  return n;
}

void RxChain::append(std::span<const std::byte> bytes, uint32_t max_len) {
  if (dropping_) return;
  if (bytes.size() > head_.tailroom() || head_.size() + bytes.size() > max_len) {
    drop();
    return;
  }
  std::memcpy(head_.put(static_cast<uint16_t>(bytes.size())), bytes.data(), bytes.size());
}

stack::Packet RxChain::finish() {
  dropping_ = false;
  return std::move(head_);
}

}  // namespace xnet::xdp
