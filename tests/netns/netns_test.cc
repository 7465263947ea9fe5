#include "tests/netns/privileged.h"

#include <gtest/gtest.h>
#include <net/if.h>
#include <unistd.h>

namespace xnet::netns {
namespace {

TEST(Command, CapturesOutputAndExitCode) {
  const CommandResult r = run_shell("echo hello; exit 3");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.output, "hello\n");
}

TEST(Command, TimeoutKillsOnlyItsChild) {
  const auto start = std::chrono::steady_clock::now();
  const CommandResult r = run_command({"sleep", "5"}, std::chrono::milliseconds(200));
  EXPECT_TRUE(r.timed_out);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST(VethTopology, PingAcrossAndAlwaysRemoved) {
  XNET_REQUIRE_PRIVILEGED();
  std::string xns, kns;
  {
    VethOptions o;
    o.queues = 2;
    o.kernel_tx_checksum_off = true;
    o.xnet_side_kernel_addrs = {"10.77.0.1/24"};
    std::string error;
    auto t = VethTopology::create(o, &error);
    ASSERT_TRUE(t) << error;
    xns = t->xnet_ns().name();
    kns = t->kernel_ns().name();
    const CommandResult ping = t->kernel_ns().exec("ping -c1 -W2 10.77.0.1");
    EXPECT_TRUE(ping.ok()) << ping.output;
    const CommandResult tx = t->kernel_ns().exec("ethtool -k " + t->kernel_if() +
                                                 " | grep tx-checksumming");
    EXPECT_NE(tx.output.find("off"), std::string::npos) << tx.output;

    // run(): the thread sees the namespace's interfaces, the caller does not.
    unsigned inside = 0;
    ASSERT_TRUE(t->xnet_ns().run([&] { inside = if_nametoindex(t->xnet_if().c_str()); }));
    EXPECT_NE(inside, 0u);
    EXPECT_EQ(if_nametoindex(t->xnet_if().c_str()), 0u);
  }
  EXPECT_NE(access(("/run/netns/" + xns).c_str(), F_OK), 0);
  EXPECT_NE(access(("/run/netns/" + kns).c_str(), F_OK), 0);
}

TEST(VethTopology, FailedCreationLeavesNothing) {
  XNET_REQUIRE_PRIVILEGED();
  VethOptions o;
  o.kernel_side_addrs = {"not-an-address"};
  std::string error;
  auto t = VethTopology::create(o, &error);
  EXPECT_FALSE(t);
  EXPECT_FALSE(error.empty());
  const CommandResult left = run_shell("ls /run/netns | grep -c '^" + own_prefix() + "' || true");
  EXPECT_EQ(left.output, "0\n");
}

}  // namespace
}  // namespace xnet::netns
