#pragma once
// IPv4 options (RFC 791 §3.1; router alert RFC 2113): their types and
// iteration. Validation is the receive path's (ip_options_compile,
// stack/ipv4/ip_options.h): what is valid is what the kernel accepts there.

#include <cstddef>
#include <cstdint>
#include <span>


namespace xnet::wire {

enum class Ipv4OptionType : uint8_t {
  kEol = 0,
  kNop = 1,
  kRecordRoute = 7,
  kTimestamp = 68,
  kSecurity = 130,
  kLsrr = 131,
  kStreamId = 136,
  kSsrr = 137,
  kRouterAlert = 148,
};

// The "copied" flag: options that go into every fragment (ip_options_fragment
// removes the others from all fragments but the first).
constexpr bool ipv4_option_copied(uint8_t type) { return (type & 0x80) != 0; }

inline constexpr size_t kIpv4MaxOptionsLen = 40;

// Timestamp option flags (low nibble of the fourth octet).
enum class Ipv4TimestampFlag : uint8_t { kTimestampOnly = 0, kWithAddress = 1, kPrespecified = 3 };

// One option as it sits in the header. NOP is reported (length 1); EOL ends
// the iteration and is not.
struct Ipv4Option {
  uint8_t type = 0;
  uint8_t offset = 0;  // from the start of the IPv4 header
  std::span<const std::byte> bytes;  // type, length and data

  uint8_t length() const { return static_cast<uint8_t>(bytes.size()); }
  std::span<const std::byte> data() const { return bytes.size() > 2 ? bytes.subspan(2) : bytes.subspan(bytes.size()); }
};

// Walks the options area. Stops at EOL, at the end, or at the first option
// whose length cannot be right: validate first if that matters.
class Ipv4OptionRange {
 public:
  explicit Ipv4OptionRange(std::span<const std::byte> options) : opts_(options) {}

  class iterator {
   public:
    using value_type = Ipv4Option;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    iterator(std::span<const std::byte> opts, size_t pos) : opts_(opts), pos_(pos) { settle(); }
    Ipv4Option operator*() const { return current_; }
    iterator& operator++() {
      pos_ += current_.length();
      settle();
      return *this;
    }
    iterator operator++(int) {
      iterator t = *this;
      ++*this;
      return t;
    }
    friend bool operator==(const iterator& a, const iterator& b) { return a.pos_ == b.pos_; }

   private:
    void settle();

    std::span<const std::byte> opts_;
    size_t pos_ = kEnd;
    Ipv4Option current_;
    static constexpr size_t kEnd = ~size_t{0};
  };

  iterator begin() const { return iterator(opts_, 0); }
  iterator end() const { return iterator(); }

 private:
  std::span<const std::byte> opts_;
};

}  // namespace xnet::wire
