// Two stacks over a MemoryLink that loses 5% of the frames each way (and
// reorders and duplicates some): an application that retries on timeout gets
// every request answered, including fragmented ones (a lost fragment loses the
// datagram), ARP recovers by its own retries, and no frame leaks.

#include <gtest/gtest.h>

#include <string>

#include "stack/ipv4/ip_fragment.h"
#include "stack/core/stack.h"
#include "stack/udp/udp_output.h"
#include "stack/udp/udp_recv.h"
#include "stack/udp/udp_sock.h"
#include "stack/udp/udp_table.h"
#include "tests/stack/support/mem_net.h"

namespace xnet::stack {
namespace {

using support::MemNet;
using namespace std::chrono_literals;

MemoryLinkConfig lossy(uint64_t seed) {
  MemoryLinkConfig c;
  c.frame_count = 1024;
  c.tx_faults.drop = 0.05;
  c.tx_faults.reorder = 0.02;
  c.tx_faults.duplicate = 0.01;
  c.tx_faults.seed = seed;
  return c;
}

std::vector<std::byte> request(int id, size_t size) {
  std::vector<std::byte> v(size);
  const std::string head = "req " + std::to_string(id) + " ";
  for (size_t i = 0; i < size; ++i) v[i] = static_cast<std::byte>(i < head.size() ? head[i] : (i * 31 + id) & 0xff);
  return v;
}

TEST(LossyRetryTest, RetriesAtTheApplicationGetEveryAnswer) {
  MemNet net({}, lossy(11), lossy(12));
  Stack& a = net.stack(0);
  Stack& b = net.stack(1);
  UdpSock* client = a.udp().open();
  UdpSock* server = b.udp().open();
  ASSERT_TRUE(b.udp().bind(*server, wire::Ipv4Addr(), 7).ok());
  ASSERT_TRUE(a.udp().connect(*client, net.addr(1), 7).ok());

  // The echo side: answers everything queued.
  auto serve = [&] {
    for (;;) {
      std::vector<std::byte> buf(65536);
      auto r = udp_recvmsg(b, *server, buf, {});
      if (!r) break;
      buf.resize(r->copied);
      const SockAddrIn to{kAfInet, {r->source.addr, r->source.port}};
      (void)udp_sendmsg(b, *server, buf, &to, {}, net.now());
    }
  };

  constexpr int kRequests = 150;
  int retries = 0;
  for (int id = 0; id < kRequests; ++id) {
    // Every fifth request is 3000 bytes: three fragments, all needed.
    const auto req = request(id, id % 5 == 4 ? 3000 : 100);
    bool answered = false;
    for (int attempt = 0; attempt < 40 && !answered; ++attempt) {
      if (attempt > 0) ++retries;
      auto sent = udp_sendmsg(a, *client, req, nullptr, {}, net.now());
      ASSERT_TRUE(sent.ok()) << sent.error().message();
      for (int round = 0; round < 4 && !answered; ++round) {
        net.run();
        serve();
        net.run();
        for (;;) {
          std::vector<std::byte> buf(65536);
          auto r = udp_recvmsg(a, *client, buf, {});
          if (!r) break;
          buf.resize(r->copied);
          if (buf == req) answered = true;  // stale answers to earlier attempts are skipped
        }
      }
      if (!answered) net.advance(250ms);  // the application's timeout (and ARP's retry clock)
    }
    ASSERT_TRUE(answered) << "request " << id << " never answered";
  }
  // 5% loss each way over ~200+ datagrams and their fragments: some retries happened.
  EXPECT_GT(retries, 0);
  EXPECT_GT(net.link(0).fault_counters().dropped + net.link(1).fault_counters().dropped, 0u);
  a.udp().close(client);
  b.udp().close(server);
  net.advance(60s);  // reassembly queues of lost fragments time out
  net.run();
  EXPECT_EQ(b.reassembly().mem(), 0u);
  EXPECT_EQ(net.frames_in_flight(), 0u);
}

}  // namespace
}  // namespace xnet::stack
