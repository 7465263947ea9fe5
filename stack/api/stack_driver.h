#pragma once
// StackDriver: runs one Stack on one Reactor. It is the stack's rt::Poller:
//  - poll()          → stack.poll(Reactor::now()): receive bursts, timers, flush tx;
//  - wait_fd()       → the first link's wait_fd() (an AF_XDP socket), so an idle
//                      reactor sleeps in io_uring until frames arrive. Every
//                      further link with an fd gets a poller of its own (which
//                      only reports its fd), so no link is left out of the sleep;
//  - next_deadline() → stack.next_deadline() (neighbour retries, reassembly);
//  - prepare_to_sleep() → every link's prepare_to_sleep() (need_wakeup kicks),
//                      the extra links' too: their pollers only report an fd.
// Busy-poll vs idle comes from the reactor (ReactorOptions::mode).
//
// Apps (add_app): functions run after every stack poll, for work written
// against the stack's non-blocking calls (stack/udp: udp_recvmsg/udp_sendmsg
// on a stack::UdpSock) rather than UdpSocket coroutines — a sink, an echo, a
// traffic source that must see every pass. fn(stack, now) returns whether it
// did work (the reactor then polls again before sleeping); what it sent
// leaves in the same pass. They go with clear_apps() or the driver.
//
// Sockets (stack/api/udp_socket.h) are opened on a driver. The driver keeps a
// list of them: when it is destroyed it closes every socket still open (their
// queued frames and cork data are freed) and fails their pending operations
// with ENETDOWN; the UdpSocket handles stay valid and report ENETDOWN. So the
// order "driver before sockets" and "sockets before driver" are both safe.
//
// Ownership: the driver either borrows the Stack (which must then outlive it)
// or owns it (destroyed right after the sockets are closed). Links must
// outlive the stack, and received Datagrams hold frames of a link's pool: drop
// them before the links go.
//
// Shard-local: create, use and destroy a driver on its reactor's thread.

#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "runtime/clock.h"
#include "runtime/intrusive_list.h"
#include "runtime/poller.h"
#include "runtime/reactor.h"
#include "stack/api/socket_state.h"
#include "stack/core/stack.h"

namespace xnet {

class StackDriver final : public rt::Poller {
 public:
  // How soon to poll again while a link has transmits whose completion no fd
  // announces (Link::tx_completions_pending).
  static constexpr rt::Duration kTxCompletionPoll = std::chrono::microseconds(50);

  // Borrows `stack`: it must outlive the driver.
  StackDriver(rt::Reactor& reactor, xnet::stack::Stack& s);
  // Owns `stack`.
  StackDriver(rt::Reactor& reactor, std::unique_ptr<xnet::stack::Stack> s);
  ~StackDriver() override;
  StackDriver(const StackDriver&) = delete;
  StackDriver& operator=(const StackDriver&) = delete;

  xnet::stack::Stack& stack() { return *stack_; }
  const xnet::stack::Stack& stack() const { return *stack_; }
  rt::Reactor& reactor() { return *reactor_; }
  // Sockets currently open on this driver.
  size_t open_sockets() const { return sockets_.size(); }

  using App = std::function<bool(xnet::stack::Stack&, rt::TimePoint now)>;
  void add_app(App app) { apps_.push_back(std::move(app)); }
  void clear_apps() { apps_.clear(); }  // not from inside an app

  // Call after adding a link to the stack that has a wait_fd(), so the
  // reactor also wakes for it (links added before construction are found).
  void refresh_links();

  // rt::Poller
  bool poll() override;
  void flush() override;
  void prepare_to_sleep() override;
  std::optional<rt::PollFd> wait_fd() const override;
  std::optional<rt::TimePoint> next_deadline() const override;

 private:
  friend class UdpSocket;

  // Reports one extra link's fd to the reactor; does no work itself.
  class LinkFdPoller final : public rt::Poller {
   public:
    explicit LinkFdPoller(xnet::stack::Link* link) : link_(link) {}
    bool poll() override { return false; }
    std::optional<rt::PollFd> wait_fd() const override;
    xnet::stack::Link* link_;
  };

  void attach(detail::SocketState& s) { sockets_.push_back(s); }

  rt::Reactor* reactor_;
  std::unique_ptr<xnet::stack::Stack> owned_;
  xnet::stack::Stack* stack_;
  rt::IntrusiveList<detail::SocketState> sockets_;
  std::vector<App> apps_;
  std::vector<std::unique_ptr<LinkFdPoller>> extra_;
  std::vector<rt::PollerHandle> extra_handles_;
  rt::PollerHandle handle_;  // last: unregistered first
};

}  // namespace xnet
