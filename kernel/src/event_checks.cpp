#include "switchboard/event_checks.hpp"

#include <string>

namespace switchboard {

namespace {
Error error(ErrorCode code, std::string message) { return Error{code, std::move(message)}; }
}  // namespace

std::optional<Error> check_presence(const Config& config, PresenceId presence) {
  if (presence >= config.presences.size()) {
    return error(ErrorCode::unknown_presence, "presence id " + std::to_string(presence) + " is not declared");
  }
  return std::nullopt;
}

std::optional<Error> check_queue(const Config& config, QueueId queue) {
  if (queue >= config.queues.size()) {
    return error(ErrorCode::unknown_queue, "queue id " + std::to_string(queue) +
                                               " is not declared (the configuration has " +
                                               std::to_string(config.queues.size()) + " queues)");
  }
  return std::nullopt;
}

std::optional<Error> check_skills(const Config& config, const std::vector<SkillLevel>& skills) {
  std::vector<bool> seen(config.skills.size(), false);
  for (const SkillLevel& s : skills) {
    if (s.skill >= config.skills.size()) {
      return error(ErrorCode::unknown_skill, "skill id " + std::to_string(s.skill) +
                                                 " is not declared (the configuration has " +
                                                 std::to_string(config.skills.size()) + " skills)");
    }
    if (s.proficiency < 0) {
      return error(ErrorCode::invalid_value, "proficiency of skill \"" + config.skills[s.skill] +
                                                 "\" is negative; proficiencies start at 0");
    }
    if (seen[s.skill]) {
      return error(ErrorCode::invalid_value, "skill \"" + config.skills[s.skill] + "\" is listed twice");
    }
    seen[s.skill] = true;
  }
  return std::nullopt;
}

std::optional<Error> check_capacity(const Config& config, const AgentCapacity& capacity) {
  if (capacity.units < 0) return error(ErrorCode::invalid_value, "capacity units are negative; use 0 or more");
  if (capacity.profile_max.size() > config.profiles.size()) {
    return error(ErrorCode::unknown_profile, "capacity names " + std::to_string(capacity.profile_max.size()) +
                                                 " profiles; the configuration declares " +
                                                 std::to_string(config.profiles.size()));
  }
  for (std::size_t p = 0; p < capacity.profile_max.size(); ++p) {
    if (capacity.profile_max[p] < 0) {
      return error(ErrorCode::invalid_value, "capacity of profile \"" + config.profiles[p].name + "\" is negative");
    }
  }
  return std::nullopt;
}

std::optional<Error> check_shifts(const std::vector<Shift>& shifts) {
  for (const Shift& s : shifts) {
    if (s.end <= s.start) {
      return error(ErrorCode::invalid_value, "a shift ends before it starts (" + std::to_string(s.start) + ".." +
                                                 std::to_string(s.end) + ")");
    }
  }
  return std::nullopt;
}

std::optional<Error> check_upsert_fields(const Config& config, const AgentUpsert& e) {
  if (e.presence) {
    if (auto err = check_presence(config, *e.presence)) return err;
  }
  if (e.skills) {
    if (auto err = check_skills(config, *e.skills)) return err;
  }
  if (e.capacity) {
    if (auto err = check_capacity(config, *e.capacity)) return err;
  }
  if (e.shifts) return check_shifts(*e.shifts);
  return std::nullopt;
}

std::optional<Error> check_requirements(const Config& config, const std::vector<SkillRequirement>& skills,
                                        std::optional<std::int32_t> units) {
  std::vector<bool> seen(config.skills.size(), false);
  for (const SkillRequirement& r : skills) {
    if (r.skill >= config.skills.size()) {
      return error(ErrorCode::unknown_skill, "required skill id " + std::to_string(r.skill) + " is not declared");
    }
    if (r.min_proficiency < -1) {
      return error(ErrorCode::invalid_value, "minimum proficiency of \"" + config.skills[r.skill] + "\" is negative");
    }
    if (seen[r.skill]) {
      return error(ErrorCode::invalid_value, "required skill \"" + config.skills[r.skill] + "\" is listed twice");
    }
    seen[r.skill] = true;
  }
  if (units && *units <= 0) {
    return error(ErrorCode::invalid_value, "an item consumes at least 1 unit, not " + std::to_string(*units));
  }
  return std::nullopt;
}

}  // namespace switchboard
