#pragma once
// The raw AF_XDP reference: one XSK on one queue of one interface, with its
// own UMEM and its own redirect-everything XDP program, and four loops over
// it. Call everything from a thread inside the interface's network namespace.
//
// UMEM layout: the first half of the frames serve the fill ring (receive),
// the second half transmit; a reflected frame is sent from the receive half
// and goes back to the fill ring when its transmit completes.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "benchmarks/afxdp_ref/frame.h"

namespace afxdp_ref {

struct Config {
  std::string ifname;
  uint32_t queue = 0;
  uint32_t ring_size = 2048;  // every ring
  uint32_t frames = 4096;     // UMEM frames (2 KiB each)
  uint32_t batch = 64;        // descriptors per ring operation (at most 256)
};

class Socket {
 public:
  // Loads and attaches the redirect program (native mode), creates the UMEM
  // and the XSK (copy mode, need_wakeup) and fills the fill ring. nullptr and
  // *error on failure. The destructor detaches the program. A queue whose
  // previous socket the kernel has not released yet (EBUSY until an RCU
  // grace period has passed) is retried for up to half a second.
  static std::unique_ptr<Socket> open(const Config& config, std::string* error);
  ~Socket();
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  static std::unique_ptr<Socket> open_once(const Config& config, std::string* error, int* err);
  explicit Socket(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct PingOptions {
  uint64_t warmup = 2000;
  uint64_t count = 100000;
  double max_seconds = 60;
  uint64_t timeout_ns = 100'000'000;  // per round trip, then counted lost
};
struct PingResult {
  std::vector<uint64_t> rtt_ns;  // one per answered counted round trip
  uint64_t lost = 0;
};
// Busy-spinning pinger: one frame of `flow` out, spin on RX for the answer
// carrying the same sequence.
PingResult run_pinger(Socket& s, const Flow& flow, const PingOptions& options, const std::atomic<bool>& stop);

// In-place reflector until `stop`: every received IPv4/UDP frame is turned
// around (frame.h reflect) and sent back from the same UMEM frame. Returns
// frames reflected; anything else goes straight back to the fill ring.
uint64_t run_reflector(Socket& s, const std::atomic<bool>& stop);

struct TxResult {
  uint64_t sent = 0;
  double seconds = 0;
};
// One sending core: prebuilt frames of `flow` (sequence numbered) onto the TX
// ring in batches for `seconds` (or until `stop`), then the last completions.
TxResult run_txonly(Socket& s, const Flow& flow, double seconds, const std::atomic<bool>& stop);

// Counts received frames until `stop` (reading `received` as it goes, for a
// live figure). Sleeps in poll() when the rings are empty unless `spin`: a
// receiver spinning on the core that runs the veth's NAPI kthread starves it.
uint64_t run_rxdrop(Socket& s, bool spin, const std::atomic<bool>& stop, std::atomic<uint64_t>* received = nullptr);

// echo 1 > /sys/class/net/IF/threaded, and pin the NAPI kthreads of `ifname`
// ("napi/IF-*") to `cpu` (-1: leave). Only while an XDP program is attached.
// Returns an error text, empty on success.
std::string set_threaded_napi(const std::string& ifname, int cpu);

}  // namespace afxdp_ref
