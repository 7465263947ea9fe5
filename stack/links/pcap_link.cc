#include "stack/links/pcap_link.h"

#include <pcap/pcap.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace xnet::stack {
namespace {

// How many frames one inner tx_burst sees: bounds the scratch copy.
constexpr size_t kTxBatch = 64;

timeval to_timeval(PcapWriter::SystemTime t) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  timeval tv;
  tv.tv_sec = static_cast<time_t>(us / 1'000'000);
  tv.tv_usec = static_cast<suseconds_t>(us % 1'000'000);
  return tv;
}

}  // namespace

Result<std::unique_ptr<PcapWriter>> PcapWriter::open(const std::string& path, uint32_t snaplen) {
  pcap_t* handle = pcap_open_dead(DLT_EN10MB, static_cast<int>(snaplen));
  if (handle == nullptr) return std::errc::not_enough_memory;
  errno = 0;
  pcap_dumper_t* dumper = pcap_dump_open(handle, path.c_str());
  if (dumper == nullptr) {
    const int err = errno != 0 ? errno : EIO;
    pcap_close(handle);
    return std::error_code(err, std::generic_category());
  }
  return std::unique_ptr<PcapWriter>(new PcapWriter(handle, dumper, snaplen));
}

PcapWriter::PcapWriter(pcap* handle, pcap_dumper* dumper, uint32_t snaplen)
    : handle_(handle), dumper_(dumper), snaplen_(snaplen) {}

PcapWriter::~PcapWriter() {
  pcap_dump_close(dumper_);  // flushes
  pcap_close(handle_);
}

void PcapWriter::write(std::span<const std::byte> frame, SystemTime when) {
  pcap_pkthdr h{};
  h.ts = to_timeval(when);
  h.len = static_cast<bpf_u_int32>(frame.size());
  h.caplen = static_cast<bpf_u_int32>(std::min<size_t>(frame.size(), snaplen_));
  pcap_dump(reinterpret_cast<u_char*>(dumper_), &h, reinterpret_cast<const u_char*>(frame.data()));
  ++frames_;
}

void PcapWriter::flush() { pcap_dump_flush(dumper_); }

Result<std::unique_ptr<PcapLink>> PcapLink::open(Link& inner, const std::string& path, TimeSource clock) {
  auto writer = PcapWriter::open(path);
  if (!writer) return writer.error();
  return std::make_unique<PcapLink>(inner, std::move(*writer), std::move(clock));
}

PcapLink::PcapLink(Link& inner, std::unique_ptr<PcapWriter> writer, TimeSource clock)
    : inner_(inner), writer_(std::move(writer)), clock_(std::move(clock)) {}

PcapWriter::SystemTime PcapLink::now() const {
  return clock_ ? clock_() : std::chrono::system_clock::now();
}

size_t PcapLink::rx_burst(PacketQueue& out, size_t max) {
  const size_t before = out.size();
  const size_t n = inner_.rx_burst(out, max);
  if (n == 0) return 0;
  const auto when = now();
  size_t i = 0;
  out.for_each([&](const PacketMeta& m, const std::byte* frame) {
    if (i++ >= before) writer_->write({frame + m.head, m.len}, when);
  });
  return n;
}

size_t PcapLink::tx_burst(PacketQueue& q) {
  size_t taken = 0;
  while (!q.empty()) {
    PacketQueue batch;
    while (batch.size() < kTxBatch && !q.empty()) batch.push_back(q.pop_front());
    // The inner link frees what it takes, so the bytes are copied first.
    scratch_.clear();
    scratch_ends_.clear();
    batch.for_each([&](const PacketMeta& m, const std::byte* frame) {
      scratch_.insert(scratch_.end(), frame + m.head, frame + m.head + m.len);
      scratch_ends_.push_back(scratch_.size());
    });
    const size_t n = inner_.tx_burst(batch);
    const auto when = now();
    size_t begin = 0;
    for (size_t i = 0; i < n; ++i) {
      writer_->write({scratch_.data() + begin, scratch_ends_[i] - begin}, when);
      begin = scratch_ends_[i];
    }
    taken += n;
    if (!batch.empty()) {
      // Backpressure: what the inner link left goes back in front, in order.
      batch.splice_back(q);
      q = std::move(batch);
      break;
    }
  }
  return taken;
}

MemoryLink::Tap pcap_tap(PcapWriter& writer) {
  return [&writer](TapDirection, std::span<const std::byte> frame, MemoryLink::TimePoint now) {
    writer.write(frame, PcapWriter::SystemTime(
                            std::chrono::duration_cast<PcapWriter::SystemTime::duration>(now.time_since_epoch())));
  };
}

}  // namespace xnet::stack
