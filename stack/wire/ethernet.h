#pragma once
// Ethernet II frames (no FCS) with at most one 802.1Q / 802.1ad tag.
//
// The view parses a single tag; what to do with it is the stack's decision
// (strip priority tags — VLAN 0 — and drop other VLANs), so the view only
// reports the tag and where the payload starts.

#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <type_traits>

#include "stack/wire/addr.h"
#include "stack/wire/bytes.h"
#include "stack/wire/error.h"

namespace xnet::wire {

enum class EtherType : uint16_t {
  kIpv4 = 0x0800,
  kArp = 0x0806,
  kVlan = 0x8100,    // 802.1Q customer tag
  kIpv6 = 0x86dd,
  kQinQ = 0x88a8,    // 802.1ad service tag
};

constexpr bool is_vlan_tpid(uint16_t type) {
  return type == static_cast<uint16_t>(EtherType::kVlan) ||
         type == static_cast<uint16_t>(EtherType::kQinQ);
}

// The 16-bit TCI of a tag: priority (PCP), drop eligible (DEI), VLAN id.
struct VlanTag {
  uint8_t pcp = 0;  // 0..7
  bool dei = false;
  uint16_t vid = 0;  // 0..4095; 0 = priority tag only, no VLAN
  uint16_t tpid = static_cast<uint16_t>(EtherType::kVlan);

  static constexpr VlanTag from_tci(uint16_t tci, uint16_t tpid = 0x8100) {
    return {static_cast<uint8_t>(tci >> 13), (tci & 0x1000) != 0,
            static_cast<uint16_t>(tci & 0x0fff), tpid};
  }
  constexpr uint16_t tci() const {
    return static_cast<uint16_t>((pcp & 7) << 13 | (dei ? 0x1000 : 0) | (vid & 0x0fff));
  }
  constexpr bool is_priority_tag() const { return vid == 0; }
  friend constexpr bool operator==(const VlanTag&, const VlanTag&) = default;
};

namespace detail::eth {
inline constexpr size_t kDst = 0, kSrc = 6, kType = 12;
inline constexpr size_t kTci = 14, kInnerType = 16;  // when tagged
inline constexpr size_t kHeaderLen = 14, kTaggedHeaderLen = 18;
}  // namespace detail::eth

inline constexpr size_t kEthernetHeaderLen = detail::eth::kHeaderLen;
inline constexpr size_t kVlanTagLen = 4;

template <typename B>
class BasicEthernetView {
  static_assert(std::is_same_v<std::remove_const_t<B>, std::byte>);
  static constexpr bool kMutable = !std::is_const_v<B>;

 public:
  // Needs 14 bytes, 18 when the EtherType field is a tag protocol id.
  static WireResult<BasicEthernetView> checked(std::span<B> bytes) {
    using namespace detail::eth;
    if (bytes.size() < kHeaderLen) return WireError::kTruncated;
    if (is_vlan_tpid(detail::get_be16(bytes.data() + kType)) && bytes.size() < kTaggedHeaderLen) {
      return WireError::kTruncated;
    }
    return BasicEthernetView(bytes);
  }
  // For emit into a buffer the caller sized with EthernetHeader::buffer_len().
  static BasicEthernetView unchecked(std::span<B> bytes) { return BasicEthernetView(bytes); }

  operator BasicEthernetView<const std::byte>() const
    requires kMutable
  {
    return BasicEthernetView<const std::byte>::unchecked(b_);
  }

  MacAddr dst() const { return mac_at(detail::eth::kDst); }
  MacAddr src() const { return mac_at(detail::eth::kSrc); }
  // The EtherType field after the source address (a TPID when tagged).
  uint16_t ethertype() const { return detail::get_be16(p(detail::eth::kType)); }
  bool has_vlan() const { return is_vlan_tpid(ethertype()); }
  VlanTag vlan() const {
    assert(has_vlan());
    return VlanTag::from_tci(detail::get_be16(p(detail::eth::kTci)), ethertype());
  }
  // The EtherType of the payload, behind one tag if there is one. A second
  // tag (QinQ) shows here as a TPID: the stack drops such frames.
  uint16_t payload_ethertype() const {
    return has_vlan() ? detail::get_be16(p(detail::eth::kInnerType)) : ethertype();
  }
  size_t header_len() const {
    return has_vlan() ? detail::eth::kTaggedHeaderLen : detail::eth::kHeaderLen;
  }
  std::span<B> payload() const { return b_.subspan(header_len()); }
  std::span<B> bytes() const { return b_; }
  size_t size() const { return b_.size(); }

  void set_dst(MacAddr m) const requires kMutable { set_mac_at(detail::eth::kDst, m); }
  void set_src(MacAddr m) const requires kMutable { set_mac_at(detail::eth::kSrc, m); }
  void set_ethertype(uint16_t t) const requires kMutable {
    detail::set_be16(p(detail::eth::kType), t);
  }
  // Writes a tag and the payload's EtherType behind it (the buffer must hold 18 bytes).
  void set_vlan(VlanTag tag, uint16_t payload_type) const requires kMutable {
    assert(b_.size() >= detail::eth::kTaggedHeaderLen);
    detail::set_be16(p(detail::eth::kType), tag.tpid);
    detail::set_be16(p(detail::eth::kTci), tag.tci());
    detail::set_be16(p(detail::eth::kInnerType), payload_type);
  }

 private:
  explicit BasicEthernetView(std::span<B> b) : b_(b) {}
  B* p(size_t off) const { return b_.data() + off; }
  MacAddr mac_at(size_t off) const { return MacAddr::read(p(off)); }
  void set_mac_at(size_t off, MacAddr m) const requires kMutable { m.write(p(off)); }

  std::span<B> b_;
};

using EthernetView = BasicEthernetView<std::byte>;
using ConstEthernetView = BasicEthernetView<const std::byte>;

// The decoded header. `ethertype` is the payload's type; `vlan` the tag if any.
struct EthernetHeader {
  MacAddr dst;
  MacAddr src;
  uint16_t ethertype = 0;
  std::optional<VlanTag> vlan;

  // Cannot fail: checked() already validated everything the header holds.
  static EthernetHeader parse(ConstEthernetView v);
  size_t buffer_len() const { return vlan ? detail::eth::kTaggedHeaderLen : detail::eth::kHeaderLen; }
  // Writes buffer_len() bytes at the start of `v`.
  void emit(EthernetView v) const;

  friend bool operator==(const EthernetHeader&, const EthernetHeader&) = default;
};

}  // namespace xnet::wire
