#pragma once
// What netbench prints and writes: the table per scenario, the ratios and the
// targets (printed with how far each is, never asserted), the JSON file and
// the gnuplot charts.

#include <string>
#include <utility>
#include <vector>

#include "benchmarks/net/common.h"

namespace xnet::bench {

struct Machine {
  std::string cpu_model;
  int cores = 0;
  std::string kernel;
  double load_average = 0;
};
Machine machine_info();

// Median of `key` over the ok rows of (scenario, impl, size).
std::optional<double> figure(const std::vector<Measurement>& rs, const std::string& scenario,
                             const std::string& impl, size_t size, const std::string& key);

using Ratios = std::vector<std::pair<std::string, double>>;
Ratios compute_ratios(const std::vector<Measurement>& rs);

std::string format_table(const std::vector<Measurement>& rs);
std::string format_targets(const std::vector<Measurement>& rs, const Ratios& ratios);

bool write_json(const std::string& path, const Options& o, const Machine& m, const std::vector<Measurement>& rs,
                const Ratios& ratios, std::string* error);
// Latency CDF per size and throughput bars, PNG via gnuplot. Returns files written.
std::vector<std::string> write_plots(const std::string& dir, const std::vector<Measurement>& rs, std::string* error);

}  // namespace xnet::bench
