#pragma once
// The steering program's config entry and its owned addresses, written as
// the program reads them (bpf/steer_abi.h): every owned address in
// XNET_MAP_OWNED, and, while they fit, inline in the config too, which the
// program compares against without a hash lookup.
//
// A map update copies the value over the one the program may be reading, so
// the list is rewritten only under owned_in_map = 1 (the program then asks
// the map), in three writes whose torn reads are all correct: the flag set
// over the old list, the new list under the flag, the flag cleared over the
// new list. An address is in the map before it joins the list and leaves the
// map after it left the list.

#include <array>
#include <cstdint>
#include <set>

#include "bpf/steer_abi.h"
#include "xdp/error.h"

namespace xnet::xdp {

class SteerConfig {
 public:
  SteerConfig(int config_fd, int owned_fd) : config_fd_(config_fd), owned_fd_(owned_fd) {}

  // Writes the whole entry: the MAC (for ARP replies), shared mode, no owned
  // address yet.
  XdpResult<void> init(const std::array<uint8_t, 6>& mac, bool mac_valid, bool shared);

  // `addr` in network byte order. Adding one already owned, or removing one
  // that is not, is an error of the caller's bookkeeping (XdpInterface counts
  // references): both still leave the maps consistent.
  XdpResult<void> add_owned(uint32_t addr);
  XdpResult<void> remove_owned(uint32_t addr);

  bool inline_list() const { return cfg_.owned_in_map == 0; }

 private:
  XdpResult<void> write();
  XdpResult<void> publish();  // the three writes, from cfg_'s list to owned_

  int config_fd_;
  int owned_fd_;
  xnet_steer_config cfg_{};
  std::set<uint32_t> owned_;
};

}  // namespace xnet::xdp
