#include "xdp/napi_threads.h"

#include <dirent.h>
#include <sched.h>
#include <sys/resource.h>

#include <cstdlib>
#include <fstream>

namespace xnet::xdp {

int pin_napi_threads(const std::string& ifname, int cpu, std::optional<int> nice) {
  // /proc/<pid>/comm is cut to 15 characters.
  const std::string prefix = ("napi/" + ifname + "-").substr(0, 15);
  int pinned = 0;
  DIR* d = opendir("/proc");
  if (d == nullptr) return 0;
  while (dirent* e = readdir(d)) {
    const pid_t pid = static_cast<pid_t>(std::atol(e->d_name));
    if (pid <= 0) continue;
    std::ifstream f(std::string("/proc/") + e->d_name + "/comm");
    std::string comm;
    std::getline(f, comm);
    if (comm.rfind(prefix, 0) != 0) continue;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(pid, sizeof set, &set) == 0) ++pinned;
    if (nice) setpriority(PRIO_PROCESS, static_cast<id_t>(pid), *nice);
  }
  closedir(d);
  return pinned;
}

}  // namespace xnet::xdp
