#include "netns/command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace xnet::netns {
namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  CommandResult result;
  if (argv.empty()) return result;
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) {
    result.output = "pipe failed";
    return result;
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  const pid_t pid = fork();
  if (pid < 0) {
    close(out[0]);
    close(out[1]);
    result.output = "fork failed";
    return result;
  }
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec: the parent has threads.
    // Signals the caller's threads block (a program's signal thread) are
    // the command's own again.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    dup2(out[1], STDOUT_FILENO);
    dup2(out[1], STDERR_FILENO);
    const int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(out[1]);

  const Clock::time_point deadline = Clock::now() + timeout;
  char buf[4096];
  for (;;) {
    pollfd p{out[0], POLLIN, 0};
    const int r = poll(&p, 1, remaining_ms(deadline));
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) {
      result.timed_out = true;
      break;
    }
    const ssize_t n = read(out[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF: the child (and anything it forked) closed stdout
    result.output.append(buf, static_cast<size_t>(n));
  }
  close(out[0]);

  int status = 0;
  for (;;) {
    const pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) return result;
    if (result.timed_out || Clock::now() >= deadline) {
      result.timed_out = true;
      kill(pid, SIGKILL);  // our own child, by pid
      waitpid(pid, &status, 0);
      return result;
    }
    usleep(1000);
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

CommandResult run_shell(const std::string& command, std::chrono::milliseconds timeout) {
  return run_command({"/bin/sh", "-c", command}, timeout);
}

}  // namespace xnet::netns
