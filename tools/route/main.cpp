// switchboard-route: replays a stream of JSON-lines events through the routing kernel (or, with
// --engine reference, the reference router) and writes the decisions as JSON lines. The event
// and decision vocabulary is docs/events.md; the configuration format is docs/configuration.md.
//
// Single-threaded: one router, one input, one output, in order.

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "switchboard/config_loader.hpp"
#include "switchboard/decision.hpp"
#include "switchboard/jsonl/codec.hpp"
#include "switchboard/kernel.hpp"
#include "switchboard/reference_router.hpp"

namespace {

using namespace switchboard;

constexpr int kExitUsage = 2;   // bad arguments, unreadable files, invalid configuration
constexpr int kExitOutput = 1;  // the decisions could not be written (disk full, closed pipe)

constexpr const char* kFooter = R"(
Input: one JSON object per line, e.g.
  {"t": 1000, "type": "item_arrive", "item": 17, "queue": "VIP Support", "skills": ["billing"]}
  {"t": 1500, "type": "offer_accept", "item": 17, "agent": "lesa"}
"t" is the host's time in milliseconds. "seq" is optional and defaults to the line number.
Blank lines and lines starting with # are skipped. Every event type and field, and every
error code, is listed in docs/events.md.

Output: one JSON object per decision, in order, e.g.
  {"t":1000,"decision":"offer","item":17,"agent":"lesa","queue":"VIP Support","by":"method","method":"round_robin"}
  {"t":1500,"decision":"assigned","item":17,"agent":"lesa","queue":"VIP Support","by":"accepted"}
A line that cannot be read, or an event the router refuses, becomes an error line and the run
goes on (a refused event changes nothing):
  {"decision":"error","line":12,"code":"malformed_event","message":"...","raw":"..."}
  {"t":2000,"decision":"error","line":13,"seq":13,"code":"item_not_assigned","message":"...","event":{...}}
When events come from stdin, the decisions of each event are flushed before the next line is
read, so a host can drive the router interactively through a pipe.

--summary prints counts (events read and refused, offers, assignments, requeues, parks,
cancels, completions, transfers, items still queued, per-queue counts) and decisions per second
of wall time. It goes to stderr when decisions go to stdout, so that stdout stays pure JSON
lines; with --output FILE it goes to stdout.

Exit status: 0 when the whole input was read (refused events included), 2 on bad usage, an
unreadable file or an invalid configuration (the loader's message names file, line and key),
1 when the decisions could not be written.

Example (from the repository root):
  switchboard-route --config docs/examples/contact-center.toml \
      --events docs/examples/contact-center.events.jsonl --summary > decisions.jsonl)";

struct QueueCounts {
  std::uint64_t arrived = 0;
  std::uint64_t offers = 0;
  std::uint64_t assigned = 0;
  std::uint64_t completed = 0;
  std::uint64_t cancelled = 0;
};

struct Stats {
  std::uint64_t events_read = 0;
  std::uint64_t refused = 0;
  std::uint64_t decisions = 0;
  std::map<DecisionKind, std::uint64_t> by_kind;
  std::map<DecidedBy, std::uint64_t> assigned_by;
  std::uint64_t declined = 0;
  std::uint64_t timed_out = 0;
  std::vector<QueueCounts> queues;

  void count(const Decision& d) {
    ++decisions;
    ++by_kind[d.kind];
    if (d.kind == DecisionKind::error) {
      ++refused;
      return;
    }
    if (d.kind == DecisionKind::requeued) {
      ++(d.reason == RequeueReason::timed_out ? timed_out : declined);
    }
    if (d.kind == DecisionKind::assigned) ++assigned_by[d.decided_by];
    if (d.queue >= queues.size()) return;
    QueueCounts& q = queues[d.queue];
    switch (d.kind) {
      case DecisionKind::offer: ++q.offers; break;
      case DecisionKind::assigned: ++q.assigned; break;
      case DecisionKind::completed: ++q.completed; break;
      case DecisionKind::cancelled: ++q.cancelled; break;
      default: break;
    }
  }
  [[nodiscard]] std::uint64_t kind(DecisionKind k) const {
    const auto it = by_kind.find(k);
    return it == by_kind.end() ? 0 : it->second;
  }
  [[nodiscard]] std::uint64_t by(DecidedBy b) const {
    const auto it = assigned_by.find(b);
    return it == assigned_by.end() ? 0 : it->second;
  }
};

// The two engines behind one face: the kernel (the product) and the reference router (the
// specification), which decide the same.
class Router {
 public:
  Router(Config config, bool reference) {
    if (reference) {
      reference_.emplace(std::move(config));
      return;
    }
    Result<Kernel> kernel = Kernel::create(std::move(config));
    if (!kernel) {
      error_ = kernel.error().message;
      return;
    }
    kernel_.emplace(std::move(kernel).value());
  }
  [[nodiscard]] const std::string& error() const { return error_; }
  void apply(const Event& event, std::vector<Decision>& out) {
    if (kernel_) {
      kernel_->apply(event, out);
    } else {
      reference_->apply(event, out);
    }
  }
  [[nodiscard]] const Config& config() const { return kernel_ ? kernel_->config() : reference_->config(); }
  [[nodiscard]] std::size_t queued(QueueId q) const {
    return kernel_ ? kernel_->queued_count(q) : reference_->queue_order(q).size();
  }
  [[nodiscard]] std::size_t live_item_count() const {
    return kernel_ ? kernel_->live_item_count() : reference_->live_item_count();
  }
  [[nodiscard]] const char* name() const { return kernel_ ? "kernel" : "reference router"; }

 private:
  std::optional<Kernel> kernel_;
  std::optional<ReferenceRouter> reference_;
  std::string error_;
};

void print_summary(std::FILE* to, const Stats& s, const Router& router, double seconds) {
  const Config& config = router.config();
  const double rate = seconds > 0 ? static_cast<double>(s.decisions) / seconds : 0.0;
  std::size_t still_queued = 0;
  for (QueueId q = 0; q < config.queues.size(); ++q) still_queued += router.queued(q);
  const auto line = [to](const char* label, std::uint64_t n, const std::string& detail = {}) {
    std::fprintf(to, "  %-14s %8llu%s\n", label, static_cast<unsigned long long>(n),
                 detail.empty() ? "" : ("  (" + detail + ")").c_str());
  };
  std::fprintf(to, "switchboard-route summary (%s)\n", router.name());
  line("events read", s.events_read, "refused " + std::to_string(s.refused));
  line("decisions", s.decisions);
  line("offers", s.kind(DecisionKind::offer));
  line("assigned", s.kind(DecisionKind::assigned),
       "accepted " + std::to_string(s.by(DecidedBy::accepted)) + ", manual " +
           std::to_string(s.by(DecidedBy::manual)) + ", picked " +
           std::to_string(s.by(DecidedBy::pick)));
  line("requeued", s.kind(DecisionKind::requeued),
       "declined " + std::to_string(s.declined) + ", timed out " + std::to_string(s.timed_out));
  line("parked", s.kind(DecisionKind::parked));
  line("cancelled", s.kind(DecisionKind::cancelled));
  line("completed", s.kind(DecisionKind::completed));
  line("transferred", s.kind(DecisionKind::transferred));
  line("still queued", still_queued,
       "live items " + std::to_string(router.live_item_count()));

  std::size_t width = 5;
  for (const QueueConfig& q : config.queues) width = std::max(width, q.name.size());
  const int w = static_cast<int>(width);
  std::fprintf(to, "  %-*s %8s %8s %8s %9s %9s %7s\n", w, "queue", "arrived", "offers", "assigned",
               "completed", "cancelled", "queued");
  for (QueueId q = 0; q < config.queues.size(); ++q) {
    const QueueCounts& c = s.queues[q];
    std::fprintf(to, "  %-*s %8llu %8llu %8llu %9llu %9llu %7zu\n", w, config.queues[q].name.c_str(),
                 static_cast<unsigned long long>(c.arrived),
                 static_cast<unsigned long long>(c.offers),
                 static_cast<unsigned long long>(c.assigned),
                 static_cast<unsigned long long>(c.completed),
                 static_cast<unsigned long long>(c.cancelled), router.queued(q));
  }
  std::fprintf(to, "  %.0f decisions per second (%llu in %.3f s of wall time)\n", rate,
               static_cast<unsigned long long>(s.decisions), seconds);
}

bool skip(std::string_view line) {
  const auto first = line.find_first_not_of(" \t");
  return first == std::string_view::npos || line[first] == '#';
}

int run(const std::string& config_path, const std::string& events_path,
        const std::string& output_path, bool summary, bool quiet, bool reference) {
  Result<Config> loaded = load_config_file(config_path);
  if (!loaded) {
    std::fprintf(stderr, "switchboard-route: invalid configuration (%s): %s\n",
                 std::string(to_string(loaded.error().code)).c_str(), loaded.error().message.c_str());
    return kExitUsage;
  }

  std::ifstream file;
  const bool from_stdin = events_path == "-";
  if (!from_stdin) {
    file.open(events_path, std::ios::binary);
    if (!file) {
      std::fprintf(stderr, "switchboard-route: cannot read events file %s: %s\n",
                   events_path.c_str(), std::strerror(errno));
      return kExitUsage;
    }
  }
  std::istream& in = from_stdin ? std::cin : file;

  std::FILE* out = stdout;
  if (!output_path.empty()) {
    out = std::fopen(output_path.c_str(), "wb");
    if (out == nullptr) {
      std::fprintf(stderr, "switchboard-route: cannot write output file %s: %s\n",
                   output_path.c_str(), std::strerror(errno));
      return kExitUsage;
    }
  }
  std::FILE* summary_to = output_path.empty() ? stderr : stdout;

  Router router(std::move(loaded).value(), reference);
  if (!router.error().empty()) {
    std::fprintf(stderr, "switchboard-route: the kernel cannot run this configuration: %s "
                 "(--engine reference has no such limit)\n", router.error().c_str());
    return kExitUsage;
  }
  const Config& config = router.config();
  Stats stats;
  stats.queues.resize(config.queues.size());

  std::string buffer;  // decisions not yet written; flushed in large writes for files
  const auto flush = [&] {
    if (!buffer.empty()) std::fwrite(buffer.data(), 1, buffer.size(), out);
    buffer.clear();
    if (from_stdin) std::fflush(out);
  };

  const auto started = std::chrono::steady_clock::now();
  std::vector<Decision> decisions;
  std::string line;
  std::uint64_t line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();  // files written on Windows
    if (skip(line)) continue;
    ++stats.events_read;

    Result<Event> event = jsonl::decode_event(line, config, line_number);
    if (!event) {
      ++stats.refused;
      if (!quiet) buffer += jsonl::encode_decode_error(event.error(), line_number, line) + '\n';
    } else {
      decisions.clear();
      router.apply(*event, decisions);
      const bool refused = std::any_of(decisions.begin(), decisions.end(), [](const Decision& d) {
        return d.kind == DecisionKind::error;
      });
      if (const auto* arrive = std::get_if<ItemArrive>(&event->body);
          arrive != nullptr && !refused && arrive->queue < stats.queues.size()) {
        ++stats.queues[arrive->queue].arrived;
      }
      for (const Decision& d : decisions) {
        stats.count(d);
        if (quiet) continue;
        buffer += jsonl::encode_decision(
            d, config,
            d.kind == DecisionKind::error ? std::optional<std::uint64_t>(line_number) : std::nullopt);
        buffer += '\n';
      }
    }
    if (from_stdin || buffer.size() >= (1u << 16)) flush();
  }
  flush();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  bool write_failed = std::ferror(out) != 0;
  if (out != stdout) {
    write_failed = (std::fclose(out) != 0) || write_failed;
  } else {
    write_failed = (std::fflush(out) != 0) || write_failed;
  }
  if (in.bad()) {
    std::fprintf(stderr, "switchboard-route: error reading events after line %llu\n",
                 static_cast<unsigned long long>(line_number));
    return kExitUsage;
  }
  if (summary) print_summary(summary_to, stats, router, seconds);
  if (write_failed) {
    std::fprintf(stderr, "switchboard-route: could not write the decisions to %s\n",
                 output_path.empty() ? "stdout" : output_path.c_str());
    return kExitOutput;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);

  CLI::App app{
      "Replays JSON-lines events through the Switchboard routing kernel and writes its "
      "decisions as JSON lines."};
  app.name("switchboard-route");
  std::string config_path;
  std::string events_path = "-";
  std::string output_path;
  bool summary = false;
  bool quiet = false;
  std::string engine = "kernel";
  app.add_option("-c,--config", config_path, "Routing configuration (TOML, docs/configuration.md)")
      ->required();
  app.add_option("-e,--events", events_path, "Events, one JSON object per line; - reads stdin")
      ->capture_default_str();
  app.add_option("-o,--output", output_path, "Write decisions to FILE instead of stdout");
  app.add_flag("-s,--summary", summary,
               "Print a human summary at the end (stderr, or stdout with --output)");
  app.add_flag("-q,--quiet", quiet,
               "Write no decisions, only count them (for timing with --summary)");
  app.add_option("--engine", engine,
                 "kernel (the product) or reference (the executable specification); both make "
                 "the same decisions")
      ->check(CLI::IsMember({"kernel", "reference"}))
      ->capture_default_str();
  app.footer(kFooter);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help, or the usage error with a hint
    return code == 0 ? 0 : kExitUsage;
  }
  return run(config_path, events_path, output_path, summary, quiet, engine == "reference");
}
