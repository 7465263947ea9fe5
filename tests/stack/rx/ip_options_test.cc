// ip_options_compile, xnet's one IPv4 option validator, against the kernel's
// __ip_options_compile for a received packet: what it accepts, what it records,
// and the parameter-problem pointer (an offset from the IPv4 header's start:
// option byte i is 20 + i) of what it refuses. (The ICMP that carries the
// pointer: ip_rcv_test.)

#include "stack/ipv4/ip_options.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace xnet::stack {
namespace {

// A 20-byte fixed header (its contents do not matter here) and the options.
std::vector<std::byte> header(std::initializer_list<int> options) {
  std::vector<std::byte> h(20, std::byte{0});
  for (int b : options) h.push_back(static_cast<std::byte>(b));
  return h;
}

IpOptions accepted(std::initializer_list<int> options) {
  IpOptions opt;
  const auto h = header(options);
  const auto r = ip_options_compile(h, opt);
  EXPECT_TRUE(r.ok()) << "refused, pointer " << (r.ok() ? 0 : int{r.failure().pointer});
  return opt;
}

int pointer_of(std::initializer_list<int> options) {
  IpOptions opt;
  const auto h = header(options);
  const auto r = ip_options_compile(h, opt);
  EXPECT_FALSE(r.ok());
  return r.ok() ? -1 : r.failure().pointer;
}

TEST(IpOptionsCompile, AcceptsWellFormedAndRecordsWhereTheyAre) {
  // NOP, RR (2 slots, pointer at the first), TS (flag 1, room for one pair), RA 0, EOL, padding.
  const IpOptions o = accepted({0x01,                                            //
                                0x07, 0x0b, 0x04, 0, 0, 0, 0, 0, 0, 0, 0,        //
                                0x44, 0x0c, 0x05, 0x01, 0, 0, 0, 0, 0, 0, 0, 0,  //
                                0x94, 0x04, 0x00, 0x00,                          //
                                0x00, 0x00, 0x00, 0x00});
  EXPECT_EQ(o.optlen, 32);
  EXPECT_EQ(o.rr, 21);
  EXPECT_EQ(o.ts, 32);
  EXPECT_EQ(o.router_alert, 44);
  EXPECT_EQ(o.srr, 0);
}

TEST(IpOptionsCompile, FullRecordRouteIsFine) {
  // Pointer past the end: the route is full, nothing more to record.
  EXPECT_EQ(accepted({0x07, 0x07, 0x08, 1, 2, 3, 4, 0x00}).rr, 20);
}

TEST(IpOptionsCompile, SourceRoutes) {
  const IpOptions lsrr = accepted({0x01, 0x83, 0x07, 0x04, 10, 0, 0, 9});
  EXPECT_EQ(lsrr.srr, 21);
  EXPECT_FALSE(lsrr.is_strictroute);
  EXPECT_TRUE(accepted({0x89, 0x07, 0x04, 10, 0, 0, 9, 0x00}).is_strictroute);
  // A second source route (RFC 1812 §5.2.4.1): its type octet.
  EXPECT_EQ(pointer_of({0x83, 0x07, 0x04, 1, 1, 1, 1, 0x89, 0x07, 0x04, 2, 2, 2, 2, 0, 0}), 27);
}

TEST(IpOptionsCompile, LengthErrorsPointAtTheTypeOctet) {
  EXPECT_EQ(pointer_of({0x01, 0x01, 0x01, 0x07}), 23);  // no length octet
  EXPECT_EQ(pointer_of({0x07, 0x01, 0x04, 0x00}), 20);  // length 1
  EXPECT_EQ(pointer_of({0x01, 0x07, 0x0b, 0x04, 0, 0, 0, 0}), 21);  // past the options area
  EXPECT_EQ(pointer_of({0x1e, 0x00, 0x00, 0x00}), 20);  // an unknown option's, too
}

TEST(IpOptionsCompile, TypeSpecificMinimumsPointAtTheLengthOctet) {
  EXPECT_EQ(pointer_of({0x07, 0x02, 0x00, 0x00}), 21);  // RR shorter than 3
  EXPECT_EQ(pointer_of({0x44, 0x03, 0x05, 0x00}), 21);  // TS shorter than 4
  EXPECT_EQ(pointer_of({0x01, 0x01, 0x94, 0x02}), 23);  // RA shorter than 4
}

TEST(IpOptionsCompile, WhatTheKernelSkipsOnReceive) {
  // Security, stream id, CIPSO and unknown options of any sane length are
  // skipped by their length; so is a timestamp with an unknown flag.
  accepted({0x82, 0x04, 0x00, 0x00});        // security, not 11 long
  accepted({0x88, 0x06, 0, 0, 0, 0, 0, 0});  // stream id, not 4 long
  accepted({0x1e, 0x04, 0x00, 0x00});        // unknown
  EXPECT_EQ(accepted({0x44, 0x08, 0x05, 0x02, 0, 0, 0, 0}).ts, 20);  // flag 2
  // A router alert with a value other than 0 is valid but not recorded.
  EXPECT_EQ(accepted({0x94, 0x04, 0x00, 0x01}).router_alert, 0);
}

TEST(IpOptionsCompile, PointerErrorsPointAtThePointer) {
  EXPECT_EQ(pointer_of({0x07, 0x07, 0x03, 0, 0, 0, 0, 0}), 22);  // RR pointer below the first slot
  EXPECT_EQ(pointer_of({0x07, 0x07, 0x05, 0, 0, 0, 0, 0}), 22);  // the slot it names does not fit
  EXPECT_EQ(pointer_of({0x44, 0x08, 0x04, 0x00, 0, 0, 0, 0}), 22);  // TS pointer 4
  EXPECT_EQ(pointer_of({0x44, 0x08, 0x05, 0x01, 0, 0, 0, 0}), 22);  // a pair in 4 bytes
  EXPECT_EQ(pointer_of({0x83, 0x07, 0x03, 1, 1, 1, 1, 0}), 22);  // source route pointer 3
}

TEST(IpOptionsCompile, TimestampOverflowAndDuplicates) {
  // Full with its overflow counter at 15: the flags octet.
  EXPECT_EQ(pointer_of({0x01, 0x01, 0x01, 0x01, 0x44, 0x08, 0x09, 0xf0, 0, 0, 0, 0}), 27);
  // Full with 14 is fine; full prespecified never overflows.
  accepted({0x44, 0x08, 0x09, 0xe0, 0, 0, 0, 0});
  accepted({0x44, 0x08, 0x09, 0xf3, 0, 0, 0, 0});
  // Two timestamps, two record routes: the second one's type octet.
  EXPECT_EQ(pointer_of({0x44, 0x04, 0x05, 0x00, 0x44, 0x04, 0x05, 0x00}), 24);
  EXPECT_EQ(pointer_of({0x07, 0x03, 0x04, 0x07, 0x03, 0x04, 0x00, 0x00}), 23);
}

TEST(IpOptionsCompile, EolEndsTheOptionsAndNoOptionsIsFine) {
  EXPECT_EQ(accepted({0x01, 0x00, 0x07, 0x01}).optlen, 4);  // garbage after EOL is padding
  IpOptions o;
  const std::vector<std::byte> bare(20, std::byte{0});
  EXPECT_TRUE(ip_options_compile(bare, o).ok());
  EXPECT_EQ(o.optlen, 0);
}


// ip_options_echo: what an ICMP reply carries (checked against the running
// kernel by //tests/conformance: "echo with Record Route" & co.).
std::vector<int> echoed(std::initializer_list<int> options, bool prespec_ours = true) {
  IpOptions opt;
  const auto h = header(options);
  EXPECT_TRUE(ip_options_compile(h, opt).ok());
  std::array<std::byte, 40> out{};
  const auto n = ip_options_echo(h, opt, wire::Ipv4Addr(10, 0, 0, 1), 0x01020304,
                                 [&](wire::Ipv4Addr) { return prespec_ours; }, out);
  if (!n) return {-1};
  std::vector<int> v;
  for (size_t i = 0; i < *n; ++i) v.push_back(std::to_integer<int>(out[i]));
  return v;
}

TEST(IpOptionsEcho, NoneWithoutRecordRouteOrTimestamp) {
  EXPECT_EQ(echoed({}), std::vector<int>{});
  EXPECT_EQ(echoed({148, 4, 0, 0}), std::vector<int>{});  // router alert is not echoed
}

TEST(IpOptionsEcho, RecordRouteGetsOurAddressOnReceiveAndOnOutput) {
  EXPECT_EQ(echoed({7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 1}),
            (std::vector<int>{7, 11, 12, 10, 0, 0, 1, 10, 0, 0, 1, 0}));
  // One slot: filled on receive; full on output.
  EXPECT_EQ(echoed({7, 7, 4, 0, 0, 0, 0, 1}), (std::vector<int>{7, 7, 8, 10, 0, 0, 1, 0}));
}

TEST(IpOptionsEcho, TimestampsOnlyAndWithAddresses) {
  EXPECT_EQ(echoed({68, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0}),
            (std::vector<int>{68, 12, 13, 0, 1, 2, 3, 4, 1, 2, 3, 4}));
  EXPECT_EQ(echoed({68, 20, 5, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}),
            (std::vector<int>{68, 20, 21, 1, 10, 0, 0, 1, 1, 2, 3, 4, 10, 0, 0, 1, 1, 2, 3, 4}));
  // Full: the overflow counter counts us on receive.
  EXPECT_EQ(echoed({68, 8, 9, 0, 9, 9, 9, 9}), (std::vector<int>{68, 8, 9, 0x10, 9, 9, 9, 9}));
}

TEST(IpOptionsEcho, PrespecifiedOnlyForOurAddress) {
  EXPECT_EQ(echoed({68, 12, 5, 3, 10, 0, 0, 1, 0, 0, 0, 0}, true),
            (std::vector<int>{68, 12, 13, 3, 10, 0, 0, 1, 1, 2, 3, 4}));
  EXPECT_EQ(echoed({68, 12, 5, 3, 10, 0, 0, 9, 0, 0, 0, 0}, false),
            (std::vector<int>{68, 12, 5, 3, 10, 0, 0, 9, 0, 0, 0, 0}));
}

TEST(IpOptionsEcho, RecordRouteBeforeTimestampPaddedWithEol) {
  EXPECT_EQ(echoed({68, 8, 5, 0, 0, 0, 0, 0, 7, 7, 4, 0, 0, 0, 0, 1}),
            (std::vector<int>{7, 7, 8, 10, 0, 0, 1, 68, 8, 9, 0, 1, 2, 3, 4, 0}));
}

}  // namespace
}  // namespace xnet::stack
