#include "stack/api/stack_driver.h"

#include <utility>

#include "stack/udp/udp_table.h"

namespace xnet {

StackDriver::StackDriver(rt::Reactor& reactor, xnet::stack::Stack& s) : reactor_(&reactor), stack_(&s) {
  refresh_links();
  handle_ = reactor_->register_poller(*this);
}

StackDriver::StackDriver(rt::Reactor& reactor, std::unique_ptr<xnet::stack::Stack> s)
    : reactor_(&reactor), owned_(std::move(s)), stack_(owned_.get()) {
  refresh_links();
  handle_ = reactor_->register_poller(*this);
}

StackDriver::~StackDriver() {
  handle_.reset();
  extra_handles_.clear();
  apps_.clear();  // before the sockets they use are closed
  // Close what the applications left open while the stack is still alive:
  // their queued datagrams and pending cork frames go back to the pools now,
  // and the handles (and any coroutine waiting on them) see ENETDOWN.
  while (detail::SocketState* s = sockets_.pop_front()) {
    stack::UdpSock* sk = s->sk;
    sk->waker = {};
    stack_->udp().close(sk);
    s->kill(std::errc::network_down);
  }
  owned_.reset();
}

void StackDriver::refresh_links() {
  // The first link with an fd is reported by the driver itself.
  bool first = true;
  extra_handles_.clear();
  extra_.clear();
  for (const stack::Interface& ifc : stack_->interfaces()) {
    if (ifc.link == nullptr || ifc.link->wait_fd() < 0) continue;
    if (first) {
      first = false;
      continue;
    }
    extra_.push_back(std::make_unique<LinkFdPoller>(ifc.link));
    extra_handles_.push_back(reactor_->register_poller(*extra_.back()));
  }
}

bool StackDriver::poll() {
  const rt::TimePoint now = reactor_->loop_time();
  const bool did = stack_->poll(now) != 0;
  if (apps_.empty()) return did;
  bool apps_did = false;
  for (App& app : apps_) apps_did |= app(*stack_, now);
  if (apps_did) stack_->flush_tx();  // what the apps queued leaves now
  return did || apps_did;
}

// Replies the woken services just wrote leave now (the reactor calls this
// right after running them), not at the next poll's flush.
void StackDriver::flush() { stack_->flush_tx(); }

void StackDriver::prepare_to_sleep() {
  // Every link, the extra ones too: their LinkFdPollers only report an fd.
  for (const stack::Interface& ifc : stack_->interfaces()) {
    if (ifc.link != nullptr) ifc.link->prepare_to_sleep();
  }
}

std::optional<rt::PollFd> StackDriver::wait_fd() const {
  // The first link with an fd; the others have a LinkFdPoller each.
  for (const stack::Interface& ifc : stack_->interfaces()) {
    if (ifc.link != nullptr && ifc.link->wait_fd() >= 0) return rt::PollFd{ifc.link->wait_fd(), POLLIN};
  }
  return std::nullopt;
}

std::optional<rt::TimePoint> StackDriver::next_deadline() const {
  std::optional<rt::TimePoint> d = stack_->next_deadline();
  // Transmits whose completion no fd will announce: poll again shortly.
  for (const stack::Interface& ifc : stack_->interfaces()) {
    if (ifc.link != nullptr && ifc.link->tx_completions_pending()) {
      const rt::TimePoint soon = rt::Reactor::now() + kTxCompletionPoll;
      if (!d || soon < *d) d = soon;
      break;
    }
  }
  return d;
}

std::optional<rt::PollFd> StackDriver::LinkFdPoller::wait_fd() const {
  const int fd = link_->wait_fd();
  if (fd < 0) return std::nullopt;
  return rt::PollFd{fd, POLLIN};
}

}  // namespace xnet
