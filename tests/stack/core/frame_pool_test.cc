// FrameDivider and FramePool::frame_of_offset: the descriptor-to-frame map
// every received frame and every completion goes through, checked against
// plain division at the edges that break reciprocal tricks (both sides of
// each multiple, the top of the 32-bit quotient range, non-power-of-two
// jumbo sizes).

#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "stack/core/frame_pool.h"

namespace xnet::stack {
namespace {

// Frame sizes: the UMEM's (powers of two and jumbo multiples of them) and
// odd ones MemoryLink pools or tests could use.
constexpr uint32_t kSizes[] = {1,    2,    3,     5,     7,     1500,  1518, 2000,       2048,
                               3072, 4096, 6144,  9216,  10240, 12288, 14336, 65535, 0x80000001u};

TEST(FrameDivider, MatchesDivisionAtEveryEdge) {
  std::mt19937_64 rng(42);
  for (const uint32_t size : kSizes) {
    SCOPED_TRACE(size);
    const FrameDivider div(size);
    const uint64_t limit = div.limit();
    auto check = [&](uint64_t off) {
      if (off >= limit) return;
      ASSERT_EQ(div(off), off / size) << "offset " << off;
    };
    // Around the first multiples, around the last ones below the limit, and
    // spread over the whole range.
    const uint64_t top = limit / size;
    for (uint64_t k = 0; k < 2000; ++k) {
      for (const uint64_t base : {k, top - 1 - k}) {
        const uint64_t m = base * size;
        check(m);
        check(m + 1);
        check(m + size - 1);
        if (m > 0) check(m - 1);
      }
    }
    for (int i = 0; i < 100000; ++i) check(rng() % limit);
    check(limit - 1);
  }
}

TEST(FrameDivider, LimitCoversEveryUmemOffset) {
  // The largest UMEM xnet creates (jumbo 12 KiB frames, 1 Mi frames) is far
  // inside the exact range.
  EXPECT_GT(FrameDivider(12288).limit(), uint64_t{12288} << 20);
  EXPECT_EQ(FrameDivider(2048).limit(), uint64_t{1} << 43);
  EXPECT_EQ(FrameDivider(3).limit(), uint64_t{1} << 32);
}

TEST(FramePool, FrameOfOffsetMapsEveryByteOfEachFrame) {
  for (const uint32_t size : {2048u, 4096u, 6144u, 12288u, 1500u}) {
    SCOPED_TRACE(size);
    FramePool pool(size, 64);
    for (uint32_t f = 0; f < pool.capacity(); ++f) {
      const uint64_t first = pool.offset_of(f);
      EXPECT_EQ(pool.frame_of_offset(first), f);
      EXPECT_EQ(pool.frame_of_offset(first + 256), f);  // XDP headroom inside the frame
      EXPECT_EQ(pool.frame_of_offset(first + size - 1), f);
      EXPECT_EQ(pool.frame_data(f), pool.region().data() + first);
    }
  }
}

TEST(FramePool, RefusesWhatFrameOfOffsetCannotMap) {
  EXPECT_THROW(FramePool(0, 4), std::invalid_argument);
  // A borrowed region is never touched by the constructor beyond its bounds
  // check: a span that claims more than 2^32 three-byte frames is refused.
  std::byte b{};
  const std::span<std::byte> huge(&b, (uint64_t{1} << 32) * 3 + 3);
  EXPECT_THROW(FramePool(huge, 3), std::invalid_argument);
}

}  // namespace
}  // namespace xnet::stack
