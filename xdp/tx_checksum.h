#pragma once
// Completing a CHECKSUM_PARTIAL packet in software (skb_checksum_help): the
// field at start + offset already holds the folded pseudo-header sum; sum
// [start, end) and store the complement there. xdp/ keeps its own copy of the
// one's-complement sum so it does not depend on stack/wire internals.

#include <cstddef>
#include <cstdint>

namespace xnet::xdp {

// `bytes` is the packet; start/offset as in PacketMeta but relative to `bytes`.
// Returns false if the field does not lie inside the packet.
bool complete_partial_checksum(std::byte* bytes, size_t len, size_t csum_start, size_t csum_offset);

}  // namespace xnet::xdp
