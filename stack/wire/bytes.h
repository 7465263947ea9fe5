#pragma once
// Big-endian field access for the header views: memcpy (no alignment or
// aliasing assumptions about packet memory) and one byte swap.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace xnet::wire::detail {

inline uint16_t get_be16(const std::byte* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap16(v);
  return v;
}

inline uint32_t get_be32(const std::byte* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap32(v);
  return v;
}

inline void set_be16(std::byte* p, uint16_t v) {
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap16(v);
  std::memcpy(p, &v, sizeof v);
}

inline void set_be32(std::byte* p, uint32_t v) {
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap32(v);
  std::memcpy(p, &v, sizeof v);
}

inline uint8_t get_u8(const std::byte* p) { return std::to_integer<uint8_t>(*p); }
inline void set_u8(std::byte* p, uint8_t v) { *p = static_cast<std::byte>(v); }

}  // namespace xnet::wire::detail
