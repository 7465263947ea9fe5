#include "xdp/steer_config.h"

#include <bpf/bpf.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace xnet::xdp {

XdpResult<void> SteerConfig::write() {
  const uint32_t zero = 0;
  if (bpf_map_update_elem(config_fd_, &zero, &cfg_, BPF_ANY) != 0) {
    return errno_error(errno, "could not write the steering config map");
  }
  return {};
}

XdpResult<void> SteerConfig::init(const std::array<uint8_t, 6>& mac, bool mac_valid, bool shared) {
  cfg_ = {};
  std::memcpy(cfg_.mac, mac.data(), mac.size());
  cfg_.mac_valid = mac_valid ? 1 : 0;
  cfg_.shared = shared ? 1 : 0;
  owned_.clear();
  return write();
}

XdpResult<void> SteerConfig::publish() {
  // 1: the program leaves the old list for the map (only the flag differs).
  cfg_.owned_in_map = 1;
  if (auto r = write(); !r) return r;
  // 2: the new list, which nothing reads while the flag is set.
  cfg_.owned_count = 0;
  std::memset(cfg_.owned, 0, sizeof cfg_.owned);
  if (owned_.size() > XNET_OWNED_INLINE) return {};  // stays with the map
  for (uint32_t a : owned_) cfg_.owned[cfg_.owned_count++] = a;
  if (auto r = write(); !r) return r;
  // 3: the list is whole: the program compares against it again.
  cfg_.owned_in_map = 0;
  return write();
}

XdpResult<void> SteerConfig::add_owned(uint32_t addr) {
  const uint8_t one = 1;
  if (bpf_map_update_elem(owned_fd_, &addr, &one, BPF_ANY) != 0) {
    const int err = errno;
    return errno_error(err, std::string("could not add an owned address: ") + std::strerror(err) +
                                (err == E2BIG ? " (map full)" : ""));
  }
  owned_.insert(addr);
  if (auto r = publish(); !r) {
    owned_.erase(addr);
    bpf_map_delete_elem(owned_fd_, &addr);
    (void)publish();
    return r;
  }
  return {};
}

XdpResult<void> SteerConfig::remove_owned(uint32_t addr) {
  owned_.erase(addr);
  // Out of the map only after the list: from the first write on the program
  // asks the map, which then no longer has it.
  auto r = publish();
  bpf_map_delete_elem(owned_fd_, &addr);
  return r;
}

}  // namespace xnet::xdp
