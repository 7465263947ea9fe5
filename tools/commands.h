#pragma once
// The `xnet` subcommands. Each registers its options on the CLI11 app and
// returns the exit status when run.

#include <CLI/CLI.hpp>

#include <functional>

namespace xnet::tools {

using Command = std::function<int()>;

Command add_echo_command(CLI::App& app);
Command add_ping_command(CLI::App& app);
Command add_stats_command(CLI::App& app);
Command add_capture_command(CLI::App& app);

// One-line error in the house style ("xnet: ..."), returns the exit status.
int fail(const std::string& message, int status = 1);
// The check every AF_XDP subcommand makes first: a clear line instead of EPERM later.
bool require_root(const char* what);

}  // namespace xnet::tools
