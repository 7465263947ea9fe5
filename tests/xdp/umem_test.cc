// Umem's memory: the configurations it refuses, and the region it maps —
// aligned to and backed by transparent huge pages when the host offers them,
// and never inherited by a child, so a fork neither copies it nor splits its
// huge pages. Unprivileged (no socket is bound here).

#include "xdp/umem.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <fstream>
#include <string>

namespace xnet::xdp {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

// Whether the host hands out transparent huge pages to a region that asks
// (the bracketed mode of the sysfs knob is "always" or "madvise").
bool thp_available() {
  const std::string mode = transparent_huge_pages_mode();
  return mode == "always" || mode == "madvise";
}

std::unique_ptr<Umem> make(UmemConfig c) {
  auto u = Umem::create(c);
  EXPECT_TRUE(u) << u.message();
  return u ? std::move(u.value()) : nullptr;
}

TEST(Umem, ReadsTheBracketedThpMode) {
  EXPECT_EQ(bracketed_mode("always [madvise] never"), "madvise");
  EXPECT_EQ(bracketed_mode("[always] madvise never"), "always");
  EXPECT_EQ(bracketed_mode("always madvise [never]"), "never");
  EXPECT_EQ(bracketed_mode(""), "");
  EXPECT_EQ(bracketed_mode("always madvise never"), "");
}

TEST(Umem, RefusesWhatTheKernelWould) {
  EXPECT_FALSE(Umem::create({.frame_size = 1024, .frame_count = 16}));
  EXPECT_FALSE(Umem::create({.frame_size = 2048, .frame_count = 0}));
  EXPECT_FALSE(Umem::create({.frame_size = 6000, .frame_count = 16, .chunk_size = 4096}));
  EXPECT_FALSE(Umem::create({.frame_size = 65536, .frame_count = 16, .chunk_size = 4096}));
}

TEST(Umem, HugePagesBackTheRegionWhenTheHostOffersThem) {
  auto u = make({.frame_size = 2048, .frame_count = 4096});
  ASSERT_TRUE(u);
  const auto region = u->region();
  EXPECT_EQ(region.size(), size_t{2048} * 4096);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(region.data()) % kHugePage, 0u);
  if (!thp_available()) GTEST_SKIP() << "transparent huge pages are off on this host";
  // All of it, unless the host's memory is too fragmented for a few.
  EXPECT_GE(u->huge_page_bytes(), region.size() / 2);
  EXPECT_EQ(u->huge_page_bytes() % kHugePage, 0u);
}

TEST(Umem, SmallPagesWhenAsked) {
  auto u = make({.frame_size = 2048, .frame_count = 4096, .huge_pages = false});
  ASSERT_TRUE(u);
  EXPECT_EQ(u->huge_page_bytes(), 0u);
  // Every frame usable, and the pool sees them all.
  std::memset(u->region().data(), 0xab, u->region().size());
  EXPECT_EQ(u->pool().capacity(), 4096u);
}

TEST(Umem, AFrameNotAMultipleOfTheHugePageStillGetsItsWholeRegion) {
  auto u = make({.frame_size = 4096, .frame_count = 1000});  // 3.9 MiB
  ASSERT_TRUE(u);
  std::memset(u->region().data(), 0x5a, u->region().size());
  EXPECT_EQ(u->pool().frame_of_offset(u->pool().offset_of(999)), 999u);
}

// A child (the fork before exec of `ip`, say) does not get the region, so the
// parent's huge pages stay whole while the child lives and the parent writes.
TEST(Umem, NotInheritedByAChild) {
  auto u = make({.frame_size = 2048, .frame_count = 4096});
  ASSERT_TRUE(u);
  std::byte* base = u->region().data();
  const size_t huge_before = u->huge_page_bytes();
  int go[2];
  ASSERT_EQ(pipe(go), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // madvise answers ENOMEM for an address range that is not mapped.
    const bool mapped = madvise(base, 4096, MADV_NORMAL) == 0 || errno != ENOMEM;
    char c;
    (void)read(go[0], &c, 1);  // alive until the parent has written
    _exit(mapped ? 1 : 0);
  }
  close(go[0]);
  for (size_t off = 0; off < u->region().size(); off += 4096) base[off] = std::byte{1};
  const size_t huge_while_child_lives = u->huge_page_bytes();
  (void)write(go[1], "x", 1);
  close(go[1]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the child had the UMEM mapped";
  EXPECT_EQ(huge_while_child_lives, huge_before) << "a fork split the UMEM's huge pages";
}

}  // namespace
}  // namespace xnet::xdp
