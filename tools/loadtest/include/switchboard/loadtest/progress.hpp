#pragma once
// Progress of a long run on stderr: a bar redrawn in place with an estimate of the time left
// when the stream is a terminal, plain lines at every 10% when it is not (a CI log, a file), so
// that logs stay readable.
//
// Threads: replication threads call advance() (any thread, lock-free); a reporter thread that
// Progress starts and owns is the only one that writes to the stream until finish(), after which
// the owner thread writes the last line. The constructor, finish() and the destructor are for
// the owner thread only.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace switchboard::loadtest {

enum class ProgressStyle {
  automatic,  // bar when the stream is a terminal (isatty) and TERM is not "dumb", else lines
  bar,        // redrawn in place with '\r'
  lines,      // one line at each 10% reached, and one at the end
  off,        // nothing
};

class Progress {
 public:
  // `total` units of work (whatever the caller counts: simulated seconds of every replication,
  // items, ...). `out` must stay open until finish() returns.
  Progress(std::string label, std::uint64_t total, std::FILE* out = stderr,
           ProgressStyle style = ProgressStyle::automatic,
           std::chrono::milliseconds refresh = std::chrono::milliseconds(200));
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Any thread, lock-free. Every call touches one shared cache line: report every few thousand
  // units of work, not every event.
  void advance(std::uint64_t units) noexcept;

  // Any thread, lock-free: raises the count to `done_so_far` (a caller that knows the total done,
  // such as simulate()'s progress callback); a smaller value than already reported changes nothing.
  void report(std::uint64_t done_so_far) noexcept;

  // Owner thread. Stops the reporter and writes the final state (the bar at its last value and a
  // newline, or the last line). Call it after the threads that advance() have been joined, so the
  // final figure is exact. Idempotent; the destructor calls it.
  void finish();

  // Any thread: the units reported so far.
  [[nodiscard]] std::uint64_t done() const noexcept {
    // relaxed: a count for display; nothing else is published through it.
    return done_.load(std::memory_order_relaxed);
  }
  [[nodiscard]] ProgressStyle style() const noexcept { return style_; }  // never automatic

 private:
  void report_loop();  // the reporter thread
  void write_bar(std::uint64_t done, bool final);
  void write_line(std::uint64_t done);

  // Written by advance() on any thread; read by the reporter thread and by finish(). Alone on its
  // cache line so that the counters of different threads do not share one with the fields below.
  alignas(64) std::atomic<std::uint64_t> done_{0};

  // Set once by the constructor, read by the reporter thread and the owner (immutable after).
  alignas(64) std::string label_;
  std::uint64_t total_ = 0;
  std::FILE* out_ = nullptr;
  ProgressStyle style_ = ProgressStyle::off;
  std::chrono::milliseconds refresh_;
  std::chrono::steady_clock::time_point start_;

  // The reporter thread's own state until it is joined, then the owner's (join orders them).
  std::size_t last_bar_length_ = 0;
  int last_decile_ = 0;
  std::string last_bar_;

  // stop_ is written by the owner in finish() and read by the reporter, both under mutex_.
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  bool finished_ = false;  // owner thread only
  std::thread reporter_;
};

// --- Pure pieces, exposed for tests ---------------------------------------------------------

// The time left at a constant rate: elapsed * (total - done) / done. Empty while too little is
// known for an estimate (nothing done yet, or under a second and under 1% elapsed).
[[nodiscard]] std::optional<double> estimate_remaining_s(std::uint64_t done, std::uint64_t total,
                                                         double elapsed_s);

// "45 s", "3:07" (minutes:seconds), "1:02:03" (hours:minutes:seconds).
[[nodiscard]] std::string format_duration(double seconds);

// One redraw of the bar, without '\r': "label [#######.......]  45%  0:12 elapsed, about 0:15 left".
[[nodiscard]] std::string format_bar(std::string_view label, std::uint64_t done,
                                     std::uint64_t total, double elapsed_s, int bar_width = 30);

// One plain line, without '\n': "label: 40% (4,000 of 10,000) after 12 s, about 18 s left".
[[nodiscard]] std::string format_progress_line(std::string_view label, std::uint64_t done,
                                               std::uint64_t total, double elapsed_s);

}  // namespace switchboard::loadtest
