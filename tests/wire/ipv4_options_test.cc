#include "stack/wire/ipv4_options.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/wire/test_bytes.h"

namespace xnet::wire {
namespace {

using test::bytes;

Ipv4OptionError error_of(const std::vector<std::byte>& opts) {
  auto r = validate_ipv4_options(opts);
  EXPECT_FALSE(r.ok());
  return r.ok() ? Ipv4OptionError{} : r.error();
}

// Pointers are offsets from the start of the IPv4 header: option byte i is 20 + i.
TEST(Ipv4Options, AcceptsWellFormed) {
  // NOP, RR (2 slots, pointer at first), TS (flag 1, room for one pair), RA 0, EOL, padding.
  auto opts = bytes({0x01,                                                  //
                     0x07, 0x0b, 0x04, 0, 0, 0, 0, 0, 0, 0, 0,              //
                     0x44, 0x0c, 0x05, 0x01, 0, 0, 0, 0, 0, 0, 0, 0,        //
                     0x94, 0x04, 0x00, 0x00,                                //
                     0x00, 0x00, 0x00, 0x00});
  auto r = validate_ipv4_options(opts);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->record_route, 21);
  EXPECT_EQ(r->timestamp, 32);
  EXPECT_EQ(r->router_alert, 44);
  EXPECT_EQ(r->source_route, 0);

  std::vector<uint8_t> types;
  for (Ipv4Option o : Ipv4OptionRange(opts)) types.push_back(o.type);
  EXPECT_EQ(types, (std::vector<uint8_t>{1, 7, 68, 148}));
}

TEST(Ipv4Options, FullRecordRouteIsFine) {
  // Pointer past the end: the route is full, nothing more to record.
  auto r = validate_ipv4_options(bytes({0x07, 0x07, 0x08, 1, 2, 3, 4, 0x00}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->record_route, 20);
}

TEST(Ipv4Options, SourceRoutes) {
  auto lsrr = validate_ipv4_options(bytes({0x01, 0x83, 0x07, 0x04, 10, 0, 0, 9}));
  ASSERT_TRUE(lsrr);
  EXPECT_EQ(lsrr->source_route, 21);
  EXPECT_FALSE(lsrr->strict_route);
  auto ssrr = validate_ipv4_options(bytes({0x89, 0x07, 0x04, 10, 0, 0, 9, 0x00}));
  ASSERT_TRUE(ssrr);
  EXPECT_TRUE(ssrr->strict_route);
  // Two source routes (RFC 1812 §5.2.4.1): the second one's type octet.
  EXPECT_EQ(error_of(bytes({0x83, 0x07, 0x04, 1, 1, 1, 1, 0x89, 0x07, 0x04, 2, 2, 2, 2, 0, 0})),
            (Ipv4OptionError{Ipv4OptionProblem::kDuplicate, 27}));
}

TEST(Ipv4Options, LengthErrorsPointAtTheTypeOctet) {
  // Length octet missing: option at byte 3.
  EXPECT_EQ(error_of(bytes({0x01, 0x01, 0x01, 0x07})),
            (Ipv4OptionError{Ipv4OptionProblem::kTruncated, 23}));
  // Length 1.
  EXPECT_EQ(error_of(bytes({0x07, 0x01, 0x04, 0x00})),
            (Ipv4OptionError{Ipv4OptionProblem::kBadLength, 20}));
  // Length past the options area.
  EXPECT_EQ(error_of(bytes({0x01, 0x07, 0x0b, 0x04, 0, 0, 0, 0})),
            (Ipv4OptionError{Ipv4OptionProblem::kBadLength, 21}));
  // An unknown option with a bad length is still caught.
  EXPECT_EQ(error_of(bytes({0x1e, 0x00, 0x00, 0x00})),
            (Ipv4OptionError{Ipv4OptionProblem::kBadLength, 20}));
}

TEST(Ipv4Options, TypeSpecificLengths) {
  // RR with length 2: the length octet.
  EXPECT_EQ(error_of(bytes({0x07, 0x02, 0x00, 0x00})),
            (Ipv4OptionError{Ipv4OptionProblem::kBadLength, 21}));
  // TS shorter than 4.
  EXPECT_EQ(error_of(bytes({0x44, 0x03, 0x05, 0x00})),
            (Ipv4OptionError{Ipv4OptionProblem::kBadLength, 21}));
  // Router alert must be 4 long (RFC 2113).
  EXPECT_EQ(error_of(bytes({0x01, 0x01, 0x94, 0x02})),
            (Ipv4OptionError{Ipv4OptionProblem::kBadLength, 23}));
  // Security must be 11 long.
  EXPECT_EQ(error_of(bytes({0x82, 0x04, 0x00, 0x00})),
            (Ipv4OptionError{Ipv4OptionProblem::kBadLength, 21}));
}

TEST(Ipv4Options, PointerErrorsPointAtThePointer) {
  // RR pointer 3 (below the first slot).
  EXPECT_EQ(error_of(bytes({0x07, 0x07, 0x03, 0, 0, 0, 0, 0})),
            (Ipv4OptionError{Ipv4OptionProblem::kBadPointer, 22}));
  // RR pointer 5: the slot it names does not fit.
  EXPECT_EQ(error_of(bytes({0x07, 0x07, 0x05, 0, 0, 0, 0, 0})),
            (Ipv4OptionError{Ipv4OptionProblem::kBadPointer, 22}));
  // TS pointer 4.
  EXPECT_EQ(error_of(bytes({0x44, 0x08, 0x04, 0x00, 0, 0, 0, 0})),
            (Ipv4OptionError{Ipv4OptionProblem::kBadPointer, 22}));
  // TS with addresses but only 4 bytes left for the pair.
  EXPECT_EQ(error_of(bytes({0x44, 0x08, 0x05, 0x01, 0, 0, 0, 0})),
            (Ipv4OptionError{Ipv4OptionProblem::kBadPointer, 22}));
}

TEST(Ipv4Options, TimestampFlagAndOverflow) {
  EXPECT_EQ(error_of(bytes({0x44, 0x08, 0x05, 0x02, 0, 0, 0, 0})),
            (Ipv4OptionError{Ipv4OptionProblem::kBadTimestampFlag, 23}));
  // Full, counter at 15: cannot count another hop.
  EXPECT_EQ(error_of(bytes({0x01, 0x01, 0x01, 0x01, 0x44, 0x08, 0x09, 0xf0, 0, 0, 0, 0})),
            (Ipv4OptionError{Ipv4OptionProblem::kTimestampOverflow, 27}));
  // Full with counter 14 is fine.
  EXPECT_TRUE(validate_ipv4_options(bytes({0x44, 0x08, 0x09, 0xe0, 0, 0, 0, 0})));
  // Two timestamps.
  EXPECT_EQ(error_of(bytes({0x44, 0x04, 0x05, 0x00, 0x44, 0x04, 0x05, 0x00})),
            (Ipv4OptionError{Ipv4OptionProblem::kDuplicate, 24}));
}

TEST(Ipv4Options, EolEndsValidationAndIteration) {
  // Garbage after EOL is padding.
  auto opts = bytes({0x01, 0x00, 0x07, 0x01});
  EXPECT_TRUE(validate_ipv4_options(opts));
  int n = 0;
  for (auto o : Ipv4OptionRange(opts)) {
    (void)o;
    ++n;
  }
  EXPECT_EQ(n, 1);  // the NOP
}

TEST(Ipv4Options, IterationStopsAtMalformed) {
  auto opts = bytes({0x01, 0x07, 0x09, 0x04});
  int n = 0;
  for (auto o : Ipv4OptionRange(opts)) {
    (void)o;
    ++n;
  }
  EXPECT_EQ(n, 1);
}

TEST(Ipv4Options, CopiedFlag) {
  EXPECT_TRUE(ipv4_option_copied(static_cast<uint8_t>(Ipv4OptionType::kLsrr)));
  EXPECT_TRUE(ipv4_option_copied(static_cast<uint8_t>(Ipv4OptionType::kRouterAlert)));
  EXPECT_FALSE(ipv4_option_copied(static_cast<uint8_t>(Ipv4OptionType::kRecordRoute)));
  EXPECT_FALSE(ipv4_option_copied(static_cast<uint8_t>(Ipv4OptionType::kTimestamp)));
}

}  // namespace
}  // namespace xnet::wire
