#include "stack/wire/checksum.h"

#include "stack/wire/checksum_avx2.h"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <random>
#include <vector>

namespace xnet::wire {
namespace {

// One big-endian byte pair at a time: slow and obviously right.
uint64_t naive_sum(const std::byte* p, size_t n) {
  uint64_t acc = 0;
  for (size_t i = 0; i < n; i += 2) {
    const unsigned hi = std::to_integer<unsigned>(p[i]);
    const unsigned lo = i + 1 < n ? std::to_integer<unsigned>(p[i + 1]) : 0u;
    acc += hi * 256u + lo;
  }
  return acc;
}

// The same over native-order (host) 16-bit words, what the wide loop returns
// before checksum.cc turns the folded sum into network order.
uint64_t naive_sum_native(const std::byte* p, size_t n) {
  uint64_t acc = 0;
  for (size_t i = 0; i + 1 < n; i += 2) {
    uint16_t w;
    std::memcpy(&w, p + i, 2);
    acc += w;
  }
  return acc;
}

uint16_t naive_fold(uint64_t acc) {
  while (acc > 0xffff) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<uint16_t>(acc);
}

template <size_t N>
std::array<std::byte, N> bytes(const uint8_t (&b)[N]) {
  std::array<std::byte, N> out;
  std::memcpy(out.data(), b, N);
  return out;
}

TEST(Checksum, MatchesNaiveForAllLengthsAndAlignments) {
  std::mt19937 rng(1071);
  std::vector<std::byte> buf(2000 + 16), dst(2000 + 16);
  for (auto& b : buf) b = static_cast<std::byte>(rng());
  for (size_t align = 0; align < 8; ++align) {
    for (size_t len = 0; len <= 2000; ++len) {
      const std::byte* p = buf.data() + align;
      const uint16_t want = naive_fold(naive_sum(p, len));
      ASSERT_EQ(checksum_fold(checksum_partial({p, len})), want) << len << "@" << align;
      ASSERT_EQ(checksum({p, len}), static_cast<uint16_t>(~want)) << len << "@" << align;
      // The destination alignment differs from the source's on purpose.
      std::byte* d = dst.data() + (7 - align);
      ASSERT_EQ(checksum_fold(checksum_copy(d, p, len)), want) << len << "@" << align;
      ASSERT_EQ(std::memcmp(d, p, len), 0);
    }
  }
}

TEST(Checksum, AllOnesDataDoesNotLoseCarries) {
  // 0xff everywhere maximises carries in every accumulator.
  std::vector<std::byte> buf(70000, std::byte{0xff});
  for (size_t len : {1u, 2u, 31u, 32u, 33u, 1500u, 65535u, 70000u}) {
    EXPECT_EQ(checksum_fold(checksum_partial({buf.data(), len})),
              naive_fold(naive_sum(buf.data(), len)))
        << len;
  }
}

// checksum_partial and checksum_copy take the AVX2 loop from 128 bytes on
// where the CPU has it: both paths are held to the naive sum on their own,
// over lengths around every block and chunk boundary of the wide loop.
TEST(Checksum, ScalarAndWidePathsAgreeWithNaive) {
  std::mt19937 rng(1624);
  constexpr size_t kMax = (size_t{3} << 20) + 100;  // past three 1 MiB chunks
  std::vector<std::byte> buf(kMax + 8), dst(kMax + 8);
  for (auto& b : buf) b = static_cast<std::byte>(rng());
  std::vector<size_t> lens;
  for (size_t len = 96; len <= 800; ++len) lens.push_back(len);
  for (size_t len : {size_t{1} << 20, (size_t{1} << 20) + 31, (size_t{1} << 20) + 64, kMax}) lens.push_back(len);
  const bool wide = detail::cpu_has_avx2();
  if (!wide) GTEST_LOG_(INFO) << "no AVX2 on this CPU: the wide loop is not exercised";
  for (size_t align : {0u, 1u, 3u, 8u}) {
    for (size_t len : lens) {
      const std::byte* p = buf.data() + align;
      const uint16_t want = naive_fold(naive_sum(p, len));
      ASSERT_EQ(checksum_fold(detail::checksum_partial_scalar(p, len, 0)), want) << len << "@" << align;
      std::byte* d = dst.data() + (7 - align % 8);
      ASSERT_EQ(checksum_fold(detail::checksum_copy_scalar(d, p, len)), want) << len << "@" << align;
      ASSERT_EQ(std::memcmp(d, p, len), 0);
      if (!wide) continue;
      const size_t blocks = len & ~size_t{31};
      ASSERT_EQ(naive_fold(detail::sum_blocks_avx2(p, len)), naive_fold(naive_sum_native(p, blocks))) << len;
      std::memset(d, 0, len + 1);
      ASSERT_EQ(naive_fold(detail::copy_sum_blocks_avx2(d, p, len)), naive_fold(naive_sum_native(p, blocks))) << len;
      ASSERT_EQ(std::memcmp(d, p, blocks), 0) << len;
      ASSERT_EQ(d[blocks], std::byte{0}) << "wrote past its blocks at " << len;
    }
  }
}

TEST(Checksum, WideLoopKeepsEveryCarryOfAllOnesChunks) {
  // 0xff everywhere: each 32-bit lane at its largest for a whole 1 MiB chunk.
  std::vector<std::byte> buf((size_t{3} << 20) + 40, std::byte{0xff});
  for (size_t len : {size_t{128}, size_t{1} << 20, (size_t{2} << 20) + 33, buf.size()}) {
    EXPECT_EQ(checksum_fold(checksum_partial({buf.data(), len})), naive_fold(naive_sum(buf.data(), len))) << len;
    std::vector<std::byte> d(len);
    EXPECT_EQ(checksum_fold(checksum_copy(d.data(), buf.data(), len)), naive_fold(naive_sum(buf.data(), len))) << len;
  }
}

TEST(Checksum, InitialIsAddedIn) {
  const auto b = bytes({0x12, 0x34, 0x56});
  for (uint32_t initial : {0u, 1u, 0xffffu, 0x10000u, 0xfffffffeu, 0xffffffffu}) {
    EXPECT_EQ(checksum_fold(checksum_partial(b, initial)),
              naive_fold(naive_sum(b.data(), b.size()) + initial))
        << initial;
  }
}

TEST(Checksum, Rfc1071Example) {
  // RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
  const auto b = bytes({0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7});
  EXPECT_EQ(checksum_fold(checksum_partial(b)), 0xddf2);
  EXPECT_EQ(checksum(b), 0x220d);
}

TEST(Checksum, Ipv4HeaderVerifiesToZero) {
  // A header with its checksum (0xb861) filled in sums to 0xffff.
  const auto h = bytes({0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                        0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7});
  EXPECT_EQ(checksum(h), 0);
  auto zeroed = h;
  zeroed[10] = zeroed[11] = std::byte{0};
  EXPECT_EQ(checksum(zeroed), 0xb861);
}

TEST(Checksum, FoldCarriesTwice) {
  EXPECT_EQ(checksum_fold(0), 0);
  EXPECT_EQ(checksum_fold(0xffff), 0xffff);
  EXPECT_EQ(checksum_fold(0x1ffff), 0x1);      // 0xffff + 1 -> 0x10000 -> 1
  EXPECT_EQ(checksum_fold(0xffffffff), 0xffff);
  EXPECT_EQ(checksum_fold(0x0001fffe), 0xffff);
}

TEST(Checksum, PseudoHeaderSum) {
  const Ipv4Addr s(192, 168, 0, 1), d(192, 168, 0, 199);
  const auto pseudo = bytes({0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7, 0x00, 0x11, 0x00, 0x5f});
  EXPECT_EQ(checksum_fold(pseudo_header_sum(s, d, 17, 0x5f)),
            naive_fold(naive_sum(pseudo.data(), pseudo.size())));
}

TEST(Checksum, Rfc1624Update) {
  // RFC 1624 §4: HC = 0xdd2f, m = 0x5555 -> m' = 0x3285 gives 0x0000, where
  // eqn. 2 would give -0 (0xffff).
  EXPECT_EQ(checksum_update16(0xdd2f, 0x5555, 0x3285), 0x0000);
  // And back: from a field of +0 the update must give the recomputed value.
  EXPECT_EQ(checksum_update16(0x0000, 0x3285, 0x5555), 0xdd2f);
  EXPECT_EQ(checksum_update16(0x1234, 0xabcd, 0xabcd), 0x1234);
}

// Recomputes vs. incremental update over random 20-byte headers, for every
// 16-bit word and for both 32-bit address fields.
TEST(Checksum, UpdateMatchesRecompute) {
  std::mt19937 rng(1624);
  for (int iter = 0; iter < 2000; ++iter) {
    std::array<std::byte, 20> h;
    for (auto& b : h) b = static_cast<std::byte>(rng());
    h[10] = h[11] = std::byte{0};
    const uint16_t c = checksum(h);
    const size_t word = (rng() % 10) * 2;
    if (word == 10) continue;
    auto h2 = h;
    const uint16_t old_w = static_cast<uint16_t>(std::to_integer<unsigned>(h[word]) << 8 |
                                                 std::to_integer<unsigned>(h[word + 1]));
    const uint16_t new_w = static_cast<uint16_t>(iter % 7 == 0 ? old_w ^ 0xffff : rng());
    h2[word] = static_cast<std::byte>(new_w >> 8);
    h2[word + 1] = static_cast<std::byte>(new_w);
    const uint16_t want = checksum(h2);
    const uint16_t got = checksum_update16(c, old_w, new_w);
    // Both 0 and 0xffff verify; eqn. 3 must match the recomputation except
    // when all data words are zero (impossible here with random data).
    EXPECT_EQ(got, want) << iter;

    auto h3 = h;
    const size_t addr = iter % 2 ? 12 : 16;
    uint32_t old_v = 0;
    for (size_t i = 0; i < 4; ++i) old_v = old_v << 8 | std::to_integer<uint32_t>(h[addr + i]);
    const uint32_t new_v = static_cast<uint32_t>(rng());
    for (size_t i = 0; i < 4; ++i) h3[addr + i] = static_cast<std::byte>(new_v >> (24 - 8 * i));
    EXPECT_EQ(checksum_update32(c, old_v, new_v), checksum(h3)) << iter;
  }
}

TEST(Checksum, UpdateNeverProducesMinusZero) {
  // Data that sums to 0xffff (checksum 0) after the change: eqn. 3 gives +0.
  // Words a, b with a + b = 0xffff; change b from 0 to 0xffff - a.
  const uint16_t a = 0x1234;
  const uint16_t check_before = static_cast<uint16_t>(~a);  // data {a, 0}
  EXPECT_EQ(checksum_update16(check_before, 0x0000, static_cast<uint16_t>(0xffff - a)), 0x0000);
}

}  // namespace
}  // namespace xnet::wire
