#pragma once
// The checks of an event's own fields against the configuration, shared by the reference router
// and the kernel: they refuse the same events, with the same codes and messages, and neither
// needs the router's state. Checks that need state (unknown ids, capacity below load) stay in
// each router. Each returns the first problem found, in the order the fields are listed.

#include <optional>
#include <vector>

#include "switchboard/config.hpp"
#include "switchboard/events.hpp"
#include "switchboard/result.hpp"

namespace switchboard {

[[nodiscard]] std::optional<Error> check_presence(const Config& config, PresenceId presence);
[[nodiscard]] std::optional<Error> check_queue(const Config& config, QueueId queue);
// An agent's skills: declared, proficiency 0 or more, each listed once.
[[nodiscard]] std::optional<Error> check_skills(const Config& config, const std::vector<SkillLevel>& skills);
// An agent's capacity: units 0 or more, declared profiles only, each 0 or more.
[[nodiscard]] std::optional<Error> check_capacity(const Config& config, const AgentCapacity& capacity);
// Shifts end after they start.
[[nodiscard]] std::optional<Error> check_shifts(const std::vector<Shift>& shifts);
// The fields an agent upsert carries: presence, skills, capacity, shifts, in that order.
[[nodiscard]] std::optional<Error> check_upsert_fields(const Config& config, const AgentUpsert& upsert);
// An item's required skills (declared, minimum -1 or more, each once) and its units (1 or more).
[[nodiscard]] std::optional<Error> check_requirements(const Config& config,
                                                     const std::vector<SkillRequirement>& skills,
                                                     std::optional<std::int32_t> units);

}  // namespace switchboard
