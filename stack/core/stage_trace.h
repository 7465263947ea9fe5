#pragma once
// Where a datagram's time goes inside one shard: builds with
// XNET_STAGE_TRACE (bazel build --config=stagetrace) stamp the TSC at named
// points of the path, from the moment the link hands a received frame to the
// stack to the moment the reply's transmit kick returns; every other build
// compiles the stamps to nothing.
//
// One trace per thread at a time: begin() at the receive, mark() at each
// point (only the first pass through a point counts), end() at the kick.
// When report() is called (XdpLink does when it closes) or at thread exit,
// the thread prints the mean time from the start to each point and between
// consecutive points:
//
//   stage trace (shard on veth0 queue 0, 102000 traces, 2.45 GHz TSC)
//     point                        from start       step    seen in
//     rx: frames off the ring           11 ns      11 ns       100%
//     ip_rcv                            76 ns      65 ns       100%
//     ...
//     link: kick returned             4029 ns    3060 ns       100%
//
// Used by netbench (ping-pong: the echo side's request→reply path and the
// pinger's reply→next request path) for the "where the time goes" table.

#include <cstdint>

namespace xnet::stage {

enum class Point : uint8_t {
  kRxFrames,      // XdpLink::rx_burst took descriptors off the RX ring
  kIpRcv,         // ip_rcv entered
  kUdpQueued,     // udp_queue_rcv put the datagram on a socket
  kPollDone,      // Stack::poll finished the receive work (timers next)
  kAppReceived,   // the application took the datagram (socket API)
  kSendmsg,       // udp_sendmsg entered
  kIpLocalOut,    // ip_local_out entered (headers built, checksum done)
  kXmitQueued,    // dev_queue_xmit queued the frame
  kTxBurst,       // XdpLink::tx_burst entered
  kTxKicked,      // the TX kick (sendto) returned
  kCount,
};

const char* name(Point p);

#ifdef XNET_STAGE_TRACE
void begin(Point p);
void mark(Point p);
void end(Point p);
// Prints this thread's table to stderr under `label` and resets it.
void report(const char* label);
#else
inline void begin(Point) {}
inline void mark(Point) {}
inline void end(Point) {}
inline void report(const char*) {}
#endif

}  // namespace xnet::stage
