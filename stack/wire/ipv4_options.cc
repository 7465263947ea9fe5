#include "stack/wire/ipv4_options.h"

namespace xnet::wire {
namespace {

constexpr size_t kFixedHeaderLen = 20;

uint8_t at(std::span<const std::byte> s, size_t i) { return std::to_integer<uint8_t>(s[i]); }

}  // namespace

void Ipv4OptionRange::iterator::settle() {
  if (pos_ >= opts_.size()) {
    pos_ = kEnd;
    return;
  }
  const uint8_t type = at(opts_, pos_);
  size_t len = 1;
  if (type == static_cast<uint8_t>(Ipv4OptionType::kEol)) {
    pos_ = kEnd;
    return;
  }
  if (type != static_cast<uint8_t>(Ipv4OptionType::kNop)) {
    if (opts_.size() - pos_ < 2) {
      pos_ = kEnd;
      return;
    }
    len = at(opts_, pos_ + 1);
    if (len < 2 || len > opts_.size() - pos_) {
      pos_ = kEnd;
      return;
    }
  }
  current_ = {type, static_cast<uint8_t>(kFixedHeaderLen + pos_), opts_.subspan(pos_, len)};
}

}  // namespace xnet::wire
