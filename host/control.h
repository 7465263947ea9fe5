#pragma once
// The control channel of a running xnet process: an abstract Unix datagram
// socket named "xnet/<ifname>". Abstract names live in the network namespace,
// exactly like interface names, so `xnet stats --dev veth0` run in the same
// namespace finds the process serving veth0 there, and no file is left behind
// when the process dies. Requests and replies are one datagram of text each.
//
// Requests: "stats" → the counters (/proc/net/snmp format) and ring figures;
// "capture <path>" → start writing frames to a pcap file; "capture-stop".
// Replies start with "ok\n" or "error: <what to do>\n".

#include <chrono>
#include <optional>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>

#include "runtime/result.h"

namespace xnet {

class ControlServer {
 public:
  // EADDRINUSE: another xnet process serves this interface in this namespace.
  static Result<ControlServer> open(const std::string& ifname);
  ControlServer(ControlServer&& o) noexcept;
  ControlServer& operator=(ControlServer&&) = delete;
  ~ControlServer();

  int fd() const { return fd_; }

  struct Request {
    std::string text;
    sockaddr_un from{};
    socklen_t from_len = 0;
  };
  // Non-blocking: nullopt when nothing is waiting.
  std::optional<Request> receive();
  void reply(const Request& to, const std::string& text);

 private:
  explicit ControlServer(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// Sends one request to the process serving `ifname` and waits for the reply.
// ECONNREFUSED when no xnet process serves it; ETIMEDOUT when it does not answer.
Result<std::string> control_request(const std::string& ifname, const std::string& request,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(2));

}  // namespace xnet
