#include "compare_command.hpp"

#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include <toml++/toml.h>

#include "simulate.hpp"
#include "switchboard/loadtest/html_report.hpp"
#include "switchboard/loadtest/progress.hpp"
#include "switchboard/loadtest/results_writers.hpp"

namespace switchboard::loadtest {
namespace {

constexpr int kExitOutput = 1;
constexpr int kExitUsage = 2;
constexpr int kExitRefused = 3;

Result<std::string> read_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Error{ErrorCode::config_io, path + ": cannot read scenario file (is a directory)"};
  }
  std::ifstream file(path, std::ios::in | std::ios::binary);
  if (!file) return Error{ErrorCode::config_io, path + ": cannot open scenario file"};
  std::ostringstream text;
  text << file.rdbuf();
  if (!file.good() && !file.eof()) return Error{ErrorCode::config_io, path + ": cannot read scenario file"};
  return text.str();
}

ProgressStyle progress_style(const std::string& name) {
  if (name == "bar") return ProgressStyle::bar;
  if (name == "lines") return ProgressStyle::lines;
  if (name == "off") return ProgressStyle::off;
  return ProgressStyle::automatic;
}

std::string side_label(const std::string& label, const char* side, const std::string& config) {
  if (!label.empty()) return label;
  const std::string what =
      config.empty() ? std::string("the scenario's configuration")
                     : std::filesystem::path(config).filename().string();
  return std::string(side) + ": " + what;
}

// "<source>:<line>:<column>: rest" -> "<name>: rest"; any other message as it is.
std::string without_position(const std::string& message, const std::string& source,
                             const std::string& name) {
  if (message.rfind(source + ":", 0) != 0) return message;
  std::size_t at = source.size() + 1;
  for (int field = 0; field < 2; ++field) {
    const std::size_t digits = at;
    while (at < message.size() && message[at] >= '0' && message[at] <= '9') ++at;
    if (at == digits || at >= message.size() || message[at] != ':') return message;
    ++at;
  }
  return name + ":" + message.substr(at);
}

}  // namespace

Result<Scenario> load_scenario_with_routing(const std::string& scenario_path,
                                            const std::string& config_path) {
  // The scenario as written first: its own errors then point at its own lines.
  Result<Scenario> original = load_scenario_file(scenario_path);
  if (!original) return original;
  if (config_path.empty()) return original;

  Result<std::string> text = read_file(scenario_path);
  if (!text) return text.error();
  std::error_code ec;
  const std::filesystem::path config = std::filesystem::absolute(config_path, ec).lexically_normal();
  if (ec) return Error{ErrorCode::config_io, config_path + ": " + ec.message()};
  // The same document with [routing] replaced by a path to the other configuration, re-written
  // by toml++ (values, and inline tables as inline tables, are kept).
  std::ostringstream rewritten;
  try {
#if TOML_EXCEPTIONS
    toml::table root = toml::parse(*text, scenario_path);
#else
    toml::parse_result parsed = toml::parse(*text, scenario_path);
    if (!parsed) {
      return Error{ErrorCode::config_syntax,
                   scenario_path + ": syntax error: " + std::string(parsed.error().description())};
    }
    toml::table root = std::move(parsed).table();
#endif
    root.insert_or_assign("routing", toml::table{{"path", config.string()}});
    rewritten << root << '\n';
#if TOML_EXCEPTIONS
  } catch (const toml::parse_error& e) {
    return Error{ErrorCode::config_syntax,
                 scenario_path + ": syntax error: " + std::string(e.description())};
#endif
  } catch (const std::exception& e) {
    return Error{ErrorCode::config_io, scenario_path + ": " + e.what()};
  }
  // Errors from here on are about the pairing: a queue, skill or presence of the scenario that
  // the other configuration does not declare. The source name says which pairing it was.
  const std::string source = scenario_path + " with routing from " + config.string();
  Result<Scenario> scenario = parse_scenario(rewritten.str(), source, ".");
  if (!scenario) {
    // Its line and column count in the re-written document, which is in no file: dropped; the
    // key path that follows names the scenario's entry (a configuration's own errors carry its
    // file's position inside the message).
    return Error{scenario.error().code,
                 without_position(scenario.error().message, source,
                                  scenario_path + " (with routing from " + config.string() + ")")};
  }
  scenario->path = original->path;
  return scenario;
}

int run_compare(const CompareOptions& options) {
  const std::string label_a = side_label(options.label_a, "A", options.config_a);
  const std::string label_b = side_label(options.label_b, "B", options.config_b);
  Result<Scenario> a = load_scenario_with_routing(options.scenario_path, options.config_a);
  if (!a) {
    std::fprintf(stderr, "switchboard-loadtest: %s: %s\n", label_a.c_str(), a.error().message.c_str());
    return kExitUsage;
  }
  Result<Scenario> b = load_scenario_with_routing(options.scenario_path, options.config_b);
  if (!b) {
    std::fprintf(stderr, "switchboard-loadtest: %s: %s\n", label_b.c_str(), b.error().message.c_str());
    return kExitUsage;
  }

  std::string html_path = options.html_path;
  std::string json_a;
  std::string json_b;
  std::string csv_a;
  std::string csv_b;
  if (!options.out_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options.out_dir, ec);
    if (ec) {
      std::fprintf(stderr, "switchboard-loadtest: %s: cannot create directory (%s)\n",
                   options.out_dir.c_str(), ec.message().c_str());
      return kExitOutput;
    }
    const auto in_dir = [&](const char* name) {
      return (std::filesystem::path(options.out_dir) / name).string();
    };
    if (html_path.empty()) html_path = in_dir("compare.html");
    json_a = in_dir("results-a.json");
    json_b = in_dir("results-b.json");
    csv_a = in_dir("results-a.csv");
    csv_b = in_dir("results-b.csv");
  }

  SimulateOptions sim;
  sim.engine = options.engine == "reference" ? EngineKind::reference : EngineKind::kernel;
  sim.replications = options.replications;
  // One base seed for both sides (common random numbers): the scenario's unless given. The
  // simulator keys its streams by queue, customer and agent, so both sides get the same
  // customers whatever their routing does (simulator.cpp, "Random streams").
  sim.seed = options.seed.value_or(a->seed);
  sim.threads = options.threads;
  const std::uint32_t n = options.replications.value_or(a->replications);
  // Progress counts thousandths of one replication's simulated time over both sides: A fills the
  // first half, B the second. The callback is serialized by simulate().
  constexpr std::uint64_t kUnits = 1000;
  const std::uint64_t per_side = kUnits * n;
  Progress progress("compare " + a->name, 2 * per_side, stderr, progress_style(options.progress));

  std::vector<LoadTestResults> results;
  for (const Scenario* scenario : {&*a, &*b}) {
    const std::uint64_t offset = results.size() * per_side;
    sim.on_progress = [&progress, offset, per_side](const SimulateProgress& p) {
      progress.report(offset + static_cast<std::uint64_t>(p.fraction * static_cast<double>(per_side)));
    };
    Result<LoadTestResults> r = simulate(*scenario, sim);
    if (!r) {
      progress.finish();
      std::fprintf(stderr, "switchboard-loadtest: %s: %s\n",
                   (results.empty() ? label_a : label_b).c_str(), r.error().message.c_str());
      return kExitUsage;
    }
    results.push_back(std::move(r).value());
    progress.report(results.size() * per_side);
  }
  progress.finish();

  std::fputs(("\n" + label_a + "\n" + summary_table(results[0])).c_str(), stdout);
  std::fputs(("\n" + label_b + "\n" + summary_table(results[1])).c_str(), stdout);

  int status = 0;
  const auto write = [&](const std::string& path, const std::string& what, const std::string& body) {
    if (path.empty()) return;
    if (const std::optional<Error> error = write_text_file(path, body)) {
      std::fprintf(stderr, "switchboard-loadtest: %s\n", error->message.c_str());
      status = kExitOutput;
    } else {
      std::printf("%s: %s\n", what.c_str(), path.c_str());
    }
  };
  write(json_a, "JSON (" + label_a + ")", results_to_json(results[0]));
  write(json_b, "JSON (" + label_b + ")", results_to_json(results[1]));
  write(csv_a, "CSV (" + label_a + ")", results_to_csv(results[0]));
  write(csv_b, "CSV (" + label_b + ")", results_to_csv(results[1]));
  if (!html_path.empty()) {
    std::ostringstream html;
    write_html_comparison({label_a, &results[0]}, {label_b, &results[1]}, html);
    write(html_path, "HTML comparison report", html.str());
  }
  for (std::size_t side = 0; side < 2; ++side) {
    const std::uint64_t errors = results[side].engine_figures.errors;
    if (errors == 0) continue;
    std::fprintf(stderr,
                 "switchboard-loadtest: %s: the engine refused %llu events; the figures are not "
                 "to be trusted\n",
                 (side == 0 ? label_a : label_b).c_str(), static_cast<unsigned long long>(errors));
    if (status == 0) status = kExitRefused;
  }
  return status;
}

}  // namespace switchboard::loadtest
