#pragma once
// The ServiceHost the end-to-end tests open on the xnet end of their veth:
// rings and UMEM sized for the tests, a fixed stack seed, nothing the tests
// do not want (no control channel, no signal handling, no advice on stderr).

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "host/service_host.h"
#include "netns/netns.h"
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

// Runs fn(stack) on shard 0 of `host` and returns what it returns.
template <typename F>
auto on_stack(ServiceHost& host, F fn) -> decltype(fn(std::declval<stack::Stack&>())) {
  return host.run_on(0, [&fn](StackDriver& d) { return fn(d.stack()); });
}

// The end of a one-queue test: the services stop, the transmits still in the
// ring complete, every frame of the link is back where it belongs (nothing
// held by the stack), and the host goes (the program detached) inside `ns`.
inline void stop_and_check(std::unique_ptr<ServiceHost>& host, netns::Netns& ns) {
  host->stop_services();
  xdp::XdpLink* link = &host->link(0);
  const xdp::FrameCounts fc = host->runtime().run_on(0, [link] {
    for (int k = 0; k < 200 && link->tx_in_flight() > 0; ++k) {
      link->kick();
      if (link->tx_in_flight() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return link->frame_counts();
  });
  EXPECT_TRUE(fc.adds_up());
  EXPECT_EQ(fc.stack, 0u);
  ns.run([&] {
    (void)host->stop();
    host.reset();
  });
}

}  // namespace xnet::e2e
