#include "stack/links/pcap_link.h"

#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <vector>

#include "stack/links/memory_link.h"
#include "tests/link/frames.h"

namespace xnet::stack {
namespace {

using linktest::make_frame;
using namespace std::chrono_literals;

struct Record {
  std::vector<std::byte> bytes;
  uint32_t len;
  timeval ts;
};

std::vector<Record> read_pcap(const std::string& path) {
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline(path.c_str(), err);
  EXPECT_NE(p, nullptr) << err;
  if (p == nullptr) return {};
  EXPECT_EQ(pcap_datalink(p), DLT_EN10MB);
  std::vector<Record> out;
  pcap_pkthdr* h;
  const u_char* data;
  while (pcap_next_ex(p, &h, &data) == 1) {
    const auto* b = reinterpret_cast<const std::byte*>(data);
    out.push_back({{b, b + h->caplen}, h->len, h->ts});
  }
  pcap_close(p);
  return out;
}

std::string temp_path(const char* name) { return ::testing::TempDir() + name; }

MemoryLinkConfig config(const char* name, wire::MacAddr mac, size_t capacity = 256) {
  MemoryLinkConfig c;
  c.name = name;
  c.mac = mac;
  c.frame_count = 32;
  c.rx_queue_capacity = capacity;
  return c;
}

std::vector<std::byte> bytes_of(const PacketQueue& q, size_t index) {
  std::vector<std::byte> out;
  size_t i = 0;
  q.for_each([&](const PacketMeta& m, const std::byte* f) {
    if (i++ == index) out.assign(f + m.head, f + m.head + m.len);
  });
  return out;
}

TEST(PcapLink, RecordsBothDirections) {
  const std::string path = temp_path("both.pcap");
  auto [a, b] = MemoryLink::make_pair(config("a", linktest::kMacA), config("b", linktest::kMacB));
  std::vector<std::vector<std::byte>> expected;
  {
    const PcapWriter::SystemTime t(1700000000s + 250ms);
    auto cap = PcapLink::open(*a, path, [t] { return t; });
    ASSERT_TRUE(cap) << cap.error().message();
    Link& link = **cap;
    EXPECT_EQ(link.name(), "a");
    EXPECT_EQ(&link.pool(), &a->pool());

    PacketQueue q;
    for (uint32_t i = 0; i < 5; ++i) q.push_back(make_frame(link.pool(), i, 20 + i));
    for (size_t i = 0; i < 5; ++i) expected.push_back(bytes_of(q, i));
    EXPECT_EQ(link.tx_burst(q), 5u);

    PacketQueue back;
    for (uint32_t i = 0; i < 3; ++i) back.push_back(make_frame(b->pool(), 100 + i, 50));
    for (size_t i = 0; i < 3; ++i) expected.push_back(bytes_of(back, i));
    EXPECT_EQ(b->tx_burst(back), 3u);

    PacketQueue in;
    in.push_back(make_frame(link.pool(), 999));  // already queued: must not be recorded
    EXPECT_EQ(link.rx_burst(in, 16), 3u);
    EXPECT_EQ(in.size(), 4u);
    EXPECT_EQ((*cap)->writer().frames_written(), 8u);
  }  // closing flushes

  const auto recs = read_pcap(path);
  ASSERT_EQ(recs.size(), 8u);
  for (size_t i = 0; i < recs.size(); ++i) {
    EXPECT_EQ(recs[i].bytes, expected[i]) << i;
    EXPECT_EQ(recs[i].len, expected[i].size());
    EXPECT_EQ(recs[i].ts.tv_sec, 1700000000);
    EXPECT_EQ(recs[i].ts.tv_usec, 250000);
  }
  PacketQueue drain;
  b->rx_burst(drain, 16);
  drain.clear();
  EXPECT_EQ(a->pool().in_use(), 0u);
  EXPECT_EQ(b->pool().in_use(), 0u);
}

TEST(PcapLink, BackpressuredFramesAreRecordedOnce) {
  const std::string path = temp_path("backpressure.pcap");
  auto ca = config("a", linktest::kMacA);
  ca.frame_count = 128;
  auto [a, b] = MemoryLink::make_pair(ca, config("b", linktest::kMacB, 3));
  {
    auto cap = PcapLink::open(*a, path);
    ASSERT_TRUE(cap);
    PacketQueue q;
    for (uint32_t i = 0; i < 100; ++i) q.push_back(make_frame(a->pool(), i, 8));
    size_t sent = 0;
    PacketQueue rx;
    while (!q.empty()) {
      sent += (*cap)->tx_burst(q);
      b->rx_burst(rx, 2);
      rx.clear();
    }
    EXPECT_EQ(sent, 100u);
    b->rx_burst(rx, 100);
    rx.clear();
  }
  const auto recs = read_pcap(path);
  ASSERT_EQ(recs.size(), 100u);
  for (uint32_t i = 0; i < 100; ++i) {
    uint32_t seq;
    std::memcpy(&seq, recs[i].bytes.data() + linktest::kHeaders, 4);
    EXPECT_EQ(seq, i);
  }
  EXPECT_EQ(a->pool().in_use(), 0u);
  EXPECT_EQ(b->pool().in_use(), 0u);
}

TEST(PcapLink, MemoryLinkTapUsesSimulatedTime) {
  const std::string path = temp_path("tap.pcap");
  auto [a, b] = MemoryLink::make_pair(config("a", linktest::kMacA), config("b", linktest::kMacB));
  {
    auto writer = PcapWriter::open(path);
    ASSERT_TRUE(writer);
    b->set_tap(pcap_tap(**writer));
    a->advance(MemoryLink::TimePoint(5s + 1ms));
    PacketQueue q;
    q.push_back(make_frame(a->pool(), 1));
    q.push_back(make_frame(a->pool(), 2));
    ASSERT_EQ(a->tx_burst(q), 2u);
    PacketQueue rx;
    ASSERT_EQ(b->rx_burst(rx, 8), 2u);  // b's receives
    q.push_back(make_frame(b->pool(), 3));
    ASSERT_EQ(b->tx_burst(q), 1u);       // and b's transmit
    rx.clear();
    a->rx_burst(rx, 8);
    rx.clear();
    b->set_tap({});
  }
  const auto recs = read_pcap(path);
  ASSERT_EQ(recs.size(), 3u);
  for (const auto& r : recs) {
    EXPECT_EQ(r.ts.tv_sec, 5);
    EXPECT_EQ(r.ts.tv_usec, 1000);
  }
  EXPECT_EQ(a->pool().in_use(), 0u);
  EXPECT_EQ(b->pool().in_use(), 0u);
}

TEST(PcapLink, SnaplenCutsButKeepsLength) {
  const std::string path = temp_path("snap.pcap");
  {
    auto w = PcapWriter::open(path, 16);
    ASSERT_TRUE(w);
    std::vector<std::byte> frame(100, std::byte{7});
    (*w)->write(frame, PcapWriter::SystemTime{});
  }
  const auto recs = read_pcap(path);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].bytes.size(), 16u);
  EXPECT_EQ(recs[0].len, 100u);
}

TEST(PcapLink, OpenFailureIsAnError) {
  auto [a, b] = MemoryLink::make_pair(config("a", linktest::kMacA), config("b", linktest::kMacB));
  auto cap = PcapLink::open(*a, "/nonexistent-dir/x.pcap");
  ASSERT_FALSE(cap);
  EXPECT_EQ(cap.error(), std::errc::no_such_file_or_directory);
}

}  // namespace
}  // namespace xnet::stack
