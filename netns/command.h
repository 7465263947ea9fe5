#pragma once
// Runs an external command (ip, ethtool, ping ...) with a bounded wait. The
// child is the only process this code ever signals: on timeout it is killed by
// its pid, never by name.

#include <chrono>
#include <string>
#include <vector>

namespace xnet::netns {

struct CommandResult {
  int exit_code = -1;   // -1 when it did not exit normally (signal, timeout, exec failure)
  bool timed_out = false;
  std::string output;   // stdout and stderr, interleaved

  bool ok() const { return exit_code == 0; }
};

inline constexpr std::chrono::milliseconds kDefaultCommandTimeout{10000};

CommandResult run_command(const std::vector<std::string>& argv,
                          std::chrono::milliseconds timeout = kDefaultCommandTimeout);

// `/bin/sh -c command`.
CommandResult run_shell(const std::string& command,
                        std::chrono::milliseconds timeout = kDefaultCommandTimeout);

}  // namespace xnet::netns
