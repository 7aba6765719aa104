#include "rtt_load.hpp"

#include <string_view>

namespace switchboard::bench {

Config rtt_config(std::size_t agents) {
  Config config;
  for (std::string_view p : kBuiltinPresences) config.presences.emplace_back(p);
  config.profiles = {ProfileConfig{"chat", false}};
  ChannelConfig chat = channel_defaults(ChannelKind::chat);
  chat.capacity_model = CapacityModel::profile;
  chat.profile = 0;
  config.channels = {chat};
  QueueConfig queue;
  queue.name = "rtt";
  queue.group = 1;
  queue.channel = 0;
  queue.block_size = chat.block_size;
  queue.prioritization_limit = chat.prioritization_limit;
  queue.method = AssignmentMethod::highest_capacity;
  config.queues.push_back(std::move(queue));
  for (std::size_t a = 0; a < agents; ++a) {
    AgentSeed seed;
    seed.id = ExternalId(static_cast<std::uint64_t>(a + 1));
    seed.presence = config.available();
    seed.capacity.profile_max = {3};
    seed.queues = {0};
    config.agents.push_back(std::move(seed));
  }
  return config;
}

RttEvent RttRecords::describe(std::uint64_t k) const noexcept {
  RttEvent e;
  e.type = k % 2 == 0 ? SB_REC_ITEM_ARRIVE : SB_REC_ITEM_CANCEL;
  e.sequence = k + 1;
  e.item = item_base_ + (k / 2) % kItemCycle;
  return e;
}

RttEvent RttRecords::event(std::uint64_t k) {
  RttEvent e = describe(k);
  sb_encoder enc;
  sb_enc_init(&enc, buffer_.data(), buffer_.size());
  if (e.type == SB_REC_ITEM_ARRIVE) {
    sb_encode_item_arrive(&enc, kTime, sb_id_number(e.item), 0, nullptr, 0);
  } else {
    sb_encode_item_cancel(&enc, kTime, sb_id_number(e.item));
  }
  // Either payload fits the buffer with room to spare; were it ever not so, the empty payload
  // sent instead is refused as malformed and the reply check counts the ERROR.
  e.payload = buffer_.data();
  e.size = sb_enc_status(&enc) == SB_OK ? sb_enc_size(&enc) : 0;
  return e;
}

namespace {

bool fail(std::string* why, std::string text) {
  if (why != nullptr) *why = std::move(text);
  return false;
}

}  // namespace

bool is_expected_reply(const RttEvent& event, std::uint16_t slot, std::uint16_t type,
                       const void* payload, std::size_t size, std::string* why) {
  if (type != SB_REC_DECISION) {
    if (type == SB_REC_ERROR) {
      sb_error_record err;
      if (sb_decode_error(payload, size, &err) == SB_OK) {
        return fail(why, "ERROR " + std::string(sb_error_code_name(err.code)) + ": " +
                             std::string(err.message, err.message_length));
      }
    }
    return fail(why, "record type " + std::to_string(type) + " instead of a DECISION");
  }
  sb_decision d;
  if (sb_decode_decision(payload, size, &d) != SB_OK) return fail(why, "a DECISION that does not decode");
  return is_expected_decision(event, slot, d, why);
}

bool is_expected_decision(const RttEvent& event, std::uint16_t slot, const sb_decision& d, std::string* why) {
  const int want = event.type == SB_REC_ITEM_ARRIVE ? SB_DECISION_OFFER : SB_DECISION_CANCELLED;
  if (d.kind != want) {
    return fail(why, std::string(sb_decision_kind_name(d.kind)) + " instead of " + sb_decision_kind_name(want));
  }
  if (d.cause_slot != slot || d.cause_sequence != event.sequence) {
    return fail(why, "cause " + std::to_string(d.cause_slot) + "/" + std::to_string(d.cause_sequence) +
                         " instead of " + std::to_string(slot) + "/" + std::to_string(event.sequence));
  }
  if (d.item.kind != 0 || d.item.number != event.item) return fail(why, "another item");
  if (!d.has_agent) return fail(why, "no agent");
  return true;
}

}  // namespace switchboard::bench
