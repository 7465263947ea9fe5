#pragma once
// Reads a fuzzer's input as a stream of small decisions. Running out of bytes
// is not an error: every read then returns zeros / empty spans, so each input
// is a valid program and libFuzzer's mutations stay meaningful.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

namespace xnet::fuzz {

class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : p_(reinterpret_cast<const std::byte*>(data)), left_(size) {}

  bool empty() const { return left_ == 0; }
  size_t left() const { return left_; }

  uint8_t u8() {
    if (left_ == 0) return 0;
    --left_;
    return std::to_integer<uint8_t>(*p_++);
  }
  uint16_t u16() { return static_cast<uint16_t>(u8() << 8 | u8()); }
  uint32_t u32() { return static_cast<uint32_t>(u16()) << 16 | u16(); }
  bool flag() { return (u8() & 1) != 0; }
  // Up to n bytes (fewer when the input ends).
  std::span<const std::byte> bytes(size_t n) {
    n = std::min(n, left_);
    std::span<const std::byte> s(p_, n);
    p_ += n;
    left_ -= n;
    return s;
  }
  // A length-prefixed (16-bit) chunk.
  std::span<const std::byte> chunk() { return bytes(u16()); }

 private:
  const std::byte* p_;
  size_t left_;
};

}  // namespace xnet::fuzz
