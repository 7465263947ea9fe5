// The differential conformance suite (issue 14): every scenario runs on fresh
// identical topologies through the kernel's sockets (twice: a scenario whose
// kernel runs disagree is not a reference) and through xnet, and everything
// observable is compared (harness.h). One line per scenario and a total;
// differences not accepted in docs/conformance.md fail the test.
//
// Environment:
//   XNET_CONFORMANCE_FILTER=text   only scenarios whose name contains text
//   XNET_CONFORMANCE_RESULTS=path  also write "name<TAB>result" lines there
//                                  (scripts/conformance.sh builds the table)
//   XNET_CONFORMANCE_VERBOSE=1     print every outcome in full

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "tests/conformance/harness.h"
#include "tests/conformance/scenarios.h"
#include "tests/netns/privileged.h"

namespace xnet::conformance {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void print_outcome(const char* label, const Outcome& o) {
  std::printf("  --- %s%s\n", label, o.error.empty() ? "" : (" ERROR " + o.error).c_str());
  for (const auto* list : {&o.events, &o.frames}) {
    for (const Record& r : *list) {
      std::string line;
      for (const auto& [k, v] : r.fields) line += k + "=" + v + " ";
      std::printf("  %s: %s\n", r.what.c_str(), line.c_str());
    }
  }
  for (const auto& [k, v] : o.snmp) std::printf("  snmp %s +%lld\n", k.c_str(), v);
}

struct Verdict {
  std::string name;
  std::string line;  // "identical" or the differences
  bool ok = true;
};

TEST(Conformance, KernelAndXnetAgree) {
  XNET_REQUIRE_PRIVILEGED();
  const auto started = std::chrono::steady_clock::now();
  const std::vector<Accepted> accepted = parse_accepted(read_file("docs/conformance.md"));
  ASSERT_FALSE(accepted.empty()) << "docs/conformance.md: no accepted-differences table";
  const std::string filter = env("XNET_CONFORMANCE_FILTER");
  const bool verbose = env("XNET_CONFORMANCE_VERBOSE") == "1";

  std::vector<Scenario> all = send_scenarios();
  for (Scenario& s : receive_scenarios()) all.push_back(std::move(s));
  std::set<std::string> names;
  for (const Scenario& s : all) ASSERT_TRUE(names.insert(s.name).second) << "two scenarios named " << s.name;

  std::vector<const Scenario*> chosen;
  for (const Scenario& s : all) {
    if (filter.empty() || s.name.find(filter) != std::string::npos) chosen.push_back(&s);
  }
  std::set<std::pair<std::string, std::string>> used;  // accepted entries that matched

  auto judge = [&](const Scenario& sc, Outcome k1, Outcome k2, Outcome x) {
    Verdict r{sc.name, "identical", true};
    if (verbose) {
      std::printf("[scenario] %s\n", sc.name.c_str());
      print_outcome("kernel", k1);
      print_outcome("xnet", x);
    }
    if (!k1.error.empty() || !k2.error.empty() || !x.error.empty()) {
      r.ok = false;
      r.line = "run failed: " + k1.error + k2.error + x.error;
      return r;
    }
    const std::vector<Diff> unstable = compare(k1, k2);
    if (!unstable.empty()) {
      r.ok = false;
      r.line = "kernel runs disagree (fix the scenario): " + unstable[0].text;
      return r;
    }
    const std::vector<Diff> diffs = compare(k1, x);
    if (diffs.empty()) return r;
    r.line.clear();
    for (const Diff& d : diffs) {
      const Accepted* a = nullptr;
      for (const Accepted& e : accepted) {
        if ((e.scenario == "*" || e.scenario == sc.name) && e.key == d.key) a = &e;
      }
      if (!r.line.empty()) r.line += "; ";
      if (a != nullptr) {
        used.insert({a->scenario, a->key});
        r.line += "accepted [" + d.key + "] " + d.text;
      } else {
        r.ok = false;
        r.line += "DIFFERS [" + d.key + "] " + d.text;
      }
    }
    return r;
  };

  std::vector<Verdict> results;
  auto report = [&](const Verdict& r) {
    std::printf("[conformance] %-58s %s\n", r.name.c_str(), r.line.c_str());
    std::fflush(stdout);
    results.push_back(r);
  };

  // Ordinary scenarios one after the other.
  for (const Scenario* sc : chosen) {
    if (sc->after_reassembly_timeout) continue;
    Outcome k1 = ScenarioRun::begin(*sc, false)->finish();
    Outcome k2 = ScenarioRun::begin(*sc, false)->finish();
    Outcome x = ScenarioRun::begin(*sc, true)->finish();
    report(judge(*sc, std::move(k1), std::move(k2), std::move(x)));
  }
  // Those that wait for the reassembly timer: all begun, one wait, all finished.
  std::vector<std::array<std::unique_ptr<ScenarioRun>, 3>> waiting;
  std::vector<const Scenario*> waiting_sc;
  for (const Scenario* sc : chosen) {
    if (!sc->after_reassembly_timeout) continue;
    waiting.push_back({ScenarioRun::begin(*sc, false), ScenarioRun::begin(*sc, false), ScenarioRun::begin(*sc, true)});
    waiting_sc.push_back(sc);
  }
  if (!waiting.empty()) {
    std::printf("[conformance] waiting 31 s for the reassembly timer (%zu scenarios)\n", waiting.size());
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::seconds(31));
    for (size_t i = 0; i < waiting.size(); ++i) {
      Outcome k1 = waiting[i][0]->finish();
      Outcome k2 = waiting[i][1]->finish();
      Outcome x = waiting[i][2]->finish();
      report(judge(*waiting_sc[i], std::move(k1), std::move(k2), std::move(x)));
    }
    waiting.clear();
  }

  size_t identical = 0, accepted_only = 0, failed = 0;
  for (const Verdict& r : results) {
    if (!r.ok) {
      ++failed;
    } else if (r.line == "identical") {
      ++identical;
    } else {
      ++accepted_only;
    }
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("[conformance] total %zu scenarios: %zu identical, %zu with accepted differences, %zu failing (%.0f s)\n",
              results.size(), identical, accepted_only, failed, secs);
  if (const std::string path = env("XNET_CONFORMANCE_RESULTS"); !path.empty()) {
    std::ofstream f(path);
    for (const Verdict& r : results) f << r.name << '\t' << (r.ok ? "" : "FAIL ") << r.line << '\n';
    f << "#total\t" << results.size() << '\t' << identical << '\t' << accepted_only << '\t' << failed << '\t'
      << static_cast<int>(secs) << '\n';
  }
  for (const Verdict& r : results) EXPECT_TRUE(r.ok) << r.name << ": " << r.line;
  if (filter.empty()) {
    for (const Accepted& a : accepted) {
      EXPECT_TRUE(used.count({a.scenario, a.key})) << "docs/conformance.md accepts a difference no scenario shows "
                                                     "any more: "
                                                  << a.scenario << " / " << a.key;
    }
  }
}

}  // namespace
}  // namespace xnet::conformance
