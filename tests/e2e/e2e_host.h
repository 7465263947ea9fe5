#pragma once
// The ServiceHost the end-to-end tests open on the xnet end of their veth:
// rings and UMEM sized for the tests, a fixed stack seed, nothing the tests
// do not want (no control channel, no signal handling, no advice on stderr).

#include <cstdint>
#include <string>

#include "host/service_host.h"
#include "stack/wire/addr.h"

namespace xnet::e2e {

inline ServiceOptions e2e_service_options(const std::string& dev, wire::Ipv4Prefix addr, uint32_t queues = 1) {
  ServiceOptions so;
  so.dev = dev;
  so.addr = addr;
  so.queues = queues;
  so.link.umem.frame_count = 2048;
  so.link.xsk.fill_size = so.link.xsk.comp_size = so.link.xsk.rx_size = so.link.xsk.tx_size = 1024;
  so.stack.seed = 1;
  so.control = false;
  so.handle_signals = false;
  so.advise = false;
  return so;
}

}  // namespace xnet::e2e
