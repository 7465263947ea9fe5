#pragma once
// CaptureLink: forwards to the XdpLink of one queue and, while a capture is
// on, records every frame it receives and transmits to a shared pcap file.
// `xnet capture` turns it on and off in a running process; with capture off
// it costs one branch per burst. Shards share the file, so writes take a lock
// (capturing is a debugging aid, not the fast path).

#include <memory>
#include <mutex>

#include "stack/core/link.h"
#include "stack/links/pcap_link.h"

namespace xnet {

class SharedPcap {
 public:
  explicit SharedPcap(std::unique_ptr<stack::PcapWriter> w) : writer_(std::move(w)) {}
  void write(std::span<const std::byte> frame) {
    std::lock_guard lock(mu_);
    writer_->write(frame, std::chrono::system_clock::now());
  }
  uint64_t frames() {
    std::lock_guard lock(mu_);
    return writer_->frames_written();
  }
  void flush() {
    std::lock_guard lock(mu_);
    writer_->flush();
  }

 private:
  std::mutex mu_;
  std::unique_ptr<stack::PcapWriter> writer_;
};

class CaptureLink final : public stack::Link {
 public:
  explicit CaptureLink(stack::Link& inner) : inner_(inner) {}

  // On the shard's thread only.
  void set_capture(std::shared_ptr<SharedPcap> pcap) { pcap_ = std::move(pcap); }

  size_t rx_burst(stack::PacketQueue& out, size_t max) override {
    const size_t before = out.size();
    const size_t n = inner_.rx_burst(out, max);
    if (pcap_ && n > 0) {
      size_t i = 0;
      out.for_each([&](const stack::PacketMeta& m, const std::byte* frame) {
        if (i++ >= before) pcap_->write({frame + m.head, m.len});
      });
    }
    return n;
  }
  size_t tx_burst(stack::PacketQueue& q) override {
    if (!pcap_) return inner_.tx_burst(q);
    // Record before handing over: the link owns the frames afterwards. Only
    // what it took is recorded, so count first and record that many.
    std::vector<std::pair<const std::byte*, uint16_t>> frames;
    q.for_each([&](const stack::PacketMeta& m, const std::byte* frame) { frames.emplace_back(frame + m.head, m.len); });
    std::vector<std::vector<std::byte>> copies;
    copies.reserve(frames.size());
    for (auto [p, len] : frames) copies.emplace_back(p, p + len);
    const size_t n = inner_.tx_burst(q);
    for (size_t i = 0; i < n && i < copies.size(); ++i) pcap_->write(copies[i]);
    return n;
  }
  stack::FramePool& pool() override { return inner_.pool(); }
  uint32_t mtu() const override { return inner_.mtu(); }
  wire::MacAddr mac() const override { return inner_.mac(); }
  stack::LinkFeatures features() const override { return inner_.features(); }
  std::string name() const override { return inner_.name(); }
  stack::LinkStats stats() const override { return inner_.stats(); }
  uint32_t frames_held() const override { return inner_.frames_held(); }
  int wait_fd() const override { return inner_.wait_fd(); }
  void prepare_to_sleep() override { inner_.prepare_to_sleep(); }
  bool tx_completions_pending() const override { return inner_.tx_completions_pending(); }
  void add_multicast(wire::Ipv4Addr group) override { inner_.add_multicast(group); }
  void del_multicast(wire::Ipv4Addr group) override { inner_.del_multicast(group); }

 private:
  stack::Link& inner_;
  std::shared_ptr<SharedPcap> pcap_;
};

}  // namespace xnet
