#pragma once
// Packet capture for Links: a .pcap writer (libpcap does the file format),
// a Link wrapper that records every frame it transmits and receives, and a
// MemoryLink tap that records the simulated wire.
//
// Frames are recorded as the stack hands them over: a kPartial frame shows
// its unfinished transport checksum, as tcpdump on a sending host shows it.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "runtime/result.h"
#include "stack/core/link.h"
#include "stack/links/memory_link.h"

// libpcap's handles, kept out of every includer.
struct pcap;
struct pcap_dumper;

namespace xnet::stack {

// One Ethernet (DLT_EN10MB) capture file. Flushes and closes on destruction.
class PcapWriter {
 public:
  using SystemTime = std::chrono::system_clock::time_point;

  static Result<std::unique_ptr<PcapWriter>> open(const std::string& path, uint32_t snaplen = 65535);
  ~PcapWriter();
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  // Frames longer than the snaplen are cut, with their original length kept.
  void write(std::span<const std::byte> frame, SystemTime when);
  void flush();
  uint64_t frames_written() const { return frames_; }

 private:
  PcapWriter(pcap* handle, pcap_dumper* dumper, uint32_t snaplen);

  pcap* handle_;
  pcap_dumper* dumper_;
  uint32_t snaplen_;
  uint64_t frames_ = 0;
};

// A Link that forwards to `inner` and records what passes in both directions.
// Only frames the inner link took are recorded, so a burst retried after
// backpressure appears once.
class PcapLink final : public Link {
 public:
  using TimeSource = std::function<PcapWriter::SystemTime()>;

  // `clock` stamps the records; the system clock when empty. `inner` must
  // outlive the PcapLink.
  static Result<std::unique_ptr<PcapLink>> open(Link& inner, const std::string& path,
                                                TimeSource clock = {});
  PcapLink(Link& inner, std::unique_ptr<PcapWriter> writer, TimeSource clock = {});

  size_t rx_burst(PacketQueue& out, size_t max) override;
  size_t tx_burst(PacketQueue& q) override;
  FramePool& pool() override { return inner_.pool(); }
  uint32_t mtu() const override { return inner_.mtu(); }
  wire::MacAddr mac() const override { return inner_.mac(); }
  LinkFeatures features() const override { return inner_.features(); }
  std::string name() const override { return inner_.name(); }
  LinkStats stats() const override { return inner_.stats(); }
  uint32_t frames_held() const override { return inner_.frames_held(); }
  int wait_fd() const override { return inner_.wait_fd(); }
  void prepare_to_sleep() override { inner_.prepare_to_sleep(); }
  bool tx_completions_pending() const override { return inner_.tx_completions_pending(); }
  void add_multicast(wire::Ipv4Addr group) override { inner_.add_multicast(group); }
  void del_multicast(wire::Ipv4Addr group) override { inner_.del_multicast(group); }

  PcapWriter& writer() { return *writer_; }

 private:
  PcapWriter::SystemTime now() const;

  Link& inner_;
  std::unique_ptr<PcapWriter> writer_;
  TimeSource clock_;
  // Copies of a tx batch taken before the inner link frees the frames; kept
  // between calls so recording allocates only while it grows.
  std::vector<std::byte> scratch_;
  std::vector<size_t> scratch_ends_;
};

// A MemoryLink tap that writes every frame the link sends and receives to
// `writer`, stamped with the link's simulated time (so a seeded simulation
// gives a byte-identical capture). `writer` must outlive the tap.
MemoryLink::Tap pcap_tap(PcapWriter& writer);

}  // namespace xnet::stack
