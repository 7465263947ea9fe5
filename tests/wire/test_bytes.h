#pragma once
// Literal byte arrays for the wire tests.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace xnet::wire::test {

inline std::vector<std::byte> bytes(std::initializer_list<uint8_t> l) {
  std::vector<std::byte> v;
  v.reserve(l.size());
  for (uint8_t b : l) v.push_back(static_cast<std::byte>(b));
  return v;
}

// A buffer full of 0xa5, so that a field emit forgot to write shows.
inline std::vector<std::byte> poisoned(size_t n) { return std::vector<std::byte>(n, std::byte{0xa5}); }

}  // namespace xnet::wire::test
