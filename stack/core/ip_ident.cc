#include "stack/core/ip_ident.h"

#include <random>

namespace xnet::stack {

IpIdentGenerator::IpIdentGenerator(uint64_t seed) {
  if (seed == 0) {
    std::random_device rd;
    seed = (uint64_t{rd()} << 32) | rd();
  }
  std::mt19937_64 rng(seed);
  key_ = rng();
  rng_ = rng();
  for (uint16_t& v : idents_) v = static_cast<uint16_t>(rng());
}

}  // namespace xnet::stack
