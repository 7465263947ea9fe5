// Option types and iteration (validation: tests/stack/rx/ip_options_test.cc).

#include "stack/wire/ipv4_options.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/wire/test_bytes.h"

namespace xnet::wire {
namespace {

using test::bytes;

TEST(Ipv4OptionRange, WalksEveryOptionWithItsHeaderOffset) {
  // NOP, RR, TS, RA, EOL, padding.
  auto opts = bytes({0x01,                                                  //
                     0x07, 0x0b, 0x04, 0, 0, 0, 0, 0, 0, 0, 0,              //
                     0x44, 0x0c, 0x05, 0x01, 0, 0, 0, 0, 0, 0, 0, 0,        //
                     0x94, 0x04, 0x00, 0x00,                                //
                     0x00, 0x00, 0x00, 0x00});
  std::vector<uint8_t> types, offsets;
  for (Ipv4Option o : Ipv4OptionRange(opts)) {
    types.push_back(o.type);
    offsets.push_back(o.offset);
  }
  EXPECT_EQ(types, (std::vector<uint8_t>{1, 7, 68, 148}));
  EXPECT_EQ(offsets, (std::vector<uint8_t>{20, 21, 32, 44}));
}

TEST(Ipv4OptionRange, EolEndsIteration) {
  // Garbage after EOL is padding.
  auto opts = bytes({0x01, 0x00, 0x07, 0x01});
  int n = 0;
  for (auto o : Ipv4OptionRange(opts)) {
    (void)o;
    ++n;
  }
  EXPECT_EQ(n, 1);  // the NOP
}

TEST(Ipv4OptionRange, IterationStopsAtMalformed) {
  auto opts = bytes({0x01, 0x07, 0x09, 0x04});
  int n = 0;
  for (auto o : Ipv4OptionRange(opts)) {
    (void)o;
    ++n;
  }
  EXPECT_EQ(n, 1);
}

TEST(Ipv4OptionRange, CopiedFlag) {
  EXPECT_TRUE(ipv4_option_copied(static_cast<uint8_t>(Ipv4OptionType::kLsrr)));
  EXPECT_TRUE(ipv4_option_copied(static_cast<uint8_t>(Ipv4OptionType::kRouterAlert)));
  EXPECT_FALSE(ipv4_option_copied(static_cast<uint8_t>(Ipv4OptionType::kRecordRoute)));
  EXPECT_FALSE(ipv4_option_copied(static_cast<uint8_t>(Ipv4OptionType::kTimestamp)));
}

}  // namespace
}  // namespace xnet::wire
