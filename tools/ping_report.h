#pragma once
// The round-trip measurement shared by `xnet ping` on AF_XDP and on a kernel
// socket: the payload layout, the tally, and the printed report.

#include <chrono>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

#include "host/latency_histogram.h"

namespace xnet::tools {

// Every request carries its sequence number in its first 8 bytes; the rest is
// a pattern the echo returns unchanged (checked: a corrupted reply counts).
inline void fill_request(std::span<std::byte> buf, uint64_t seq) {
  std::memcpy(buf.data(), &seq, sizeof seq);
  for (size_t i = sizeof seq; i < buf.size(); ++i) buf[i] = static_cast<std::byte>(i * 7 + 3);
}
inline uint64_t reply_seq(std::span<const std::byte> buf) {
  uint64_t seq = 0;
  std::memcpy(&seq, buf.data(), sizeof seq);
  return seq;
}
inline bool reply_intact(std::span<const std::byte> buf, size_t expected_size) {
  if (buf.size() != expected_size) return false;
  for (size_t i = sizeof(uint64_t); i < buf.size(); ++i) {
    if (buf[i] != static_cast<std::byte>(i * 7 + 3)) return false;
  }
  return true;
}

struct PingTally {
  LatencyHistogram rtt;
  uint64_t sent = 0, received = 0, lost = 0, corrupt = 0;
};

// "sent N received N lost N (x%)" (+ "in flight N" when the run ended with a
// request unanswered and not yet timed out: sent = received + lost + in
// flight) and the RTT line in microseconds.
std::string format_ping_report(const std::string& title, const PingTally& t);
// One progress line (no newline) for long runs.
std::string format_progress(const PingTally& t, uint64_t count);

}  // namespace xnet::tools
