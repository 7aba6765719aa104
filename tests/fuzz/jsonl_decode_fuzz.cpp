// libFuzzer target for the JSON-lines event decoder (STYLE: a fuzz target for every decoder).
// decode_event must accept any bytes: it returns an event or an Error, never crashes, never
// throws, and whatever it accepts must survive encode -> decode unchanged in its encoding.
// How to build and run: tests/fuzz/README.md.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "switchboard/config.hpp"
#include "switchboard/jsonl/codec.hpp"

namespace {

using namespace switchboard;

// A small fixed configuration: enough names for every lookup path (queues, skills, presences,
// profiles) to be reachable from fuzzed input.
Config make_config() {
  Config config;
  config.skills = {"billing", "spanish", "s"};
  for (std::string_view p : kBuiltinPresences) config.presences.emplace_back(p);
  config.presences.emplace_back("lunch");
  config.profiles = {ProfileConfig{"chat", false}, ProfileConfig{"voice", true}};
  config.channels.push_back(channel_defaults(ChannelKind::chat));
  config.channels.back().name = "chat";
  QueueConfig vip;
  vip.name = "VIP Support";
  QueueConfig q;
  q.name = "q";
  q.method = AssignmentMethod::custom;
  q.assignment.push_back(AssignmentRule{"r", {}, {}});
  config.queues = {vip, q};
  return config;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Config config = make_config();
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  // No try/catch here on purpose: an exception escaping decode_event is a bug the fuzzer must see.
  const Result<Event> event = jsonl::decode_event(line, config, 1);
  if (!event) {
    if (event.error().code == ErrorCode::ok || event.error().message.empty()) std::abort();
    return 0;
  }
  // Accepted input round-trips: the canonical encoding decodes to an event that encodes the same.
  const std::string encoded = jsonl::encode_event(*event, config);
  const Result<Event> again = jsonl::decode_event(encoded, config, 2);
  if (!again || jsonl::encode_event(*again, config) != encoded) std::abort();
  return 0;
}
