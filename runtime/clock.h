#pragma once
// The runtime owns the clock; everything else is handed time points.

#include <chrono>

namespace xnet::rt {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = Clock::duration;

}  // namespace xnet::rt
