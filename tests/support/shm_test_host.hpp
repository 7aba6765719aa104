#pragma once
// A host of the shared-memory protocol written with the raw operations of protocol.h and ring.h
// (no client library), for tests of the daemon: it opens the segment, owns a slot by its OFD
// lock, attaches, writes records (whole, half-written or garbage), reads what the daemon
// answers, detaches, or dies (closes its descriptor without detaching).
//
// Header-only: tests/CMakeLists.txt gives the protocol's include path to test executables
// (switchboard_add_gtest), not to the switchboard_test_support library.
//
// Threads: one TestHost is used by one thread at a time. Two TestHosts in one process are two
// hosts: each opens the segment itself, so each has its own open file description and its OFD
// lock conflicts with the other's.
//
// In-process tests drive the daemon from the same thread: the handshakes take a `pump` that the
// test points at Server::poll_once, and call it until the daemon has answered.

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "switchboard/events.hpp"
#include "switchboard/shm/protocol.h"
#include "switchboard/shm/record_codec.hpp"
#include "switchboard/shm/ring.h"

namespace switchboard::shm::testing {

// A segment name no other test (or test process) uses: "/sb-test-<pid>-<n>".
inline std::string unique_segment_name() {
  static std::atomic<int> counter{0};
  // Relaxed: only uniqueness matters, and fetch_add gives it at any order.
  return "/sb-test-" + std::to_string(::getpid()) + "-" +
         std::to_string(counter.fetch_add(1, std::memory_order_relaxed));
}

// One outbound record as the host read it (copied out of the ring).
struct Received {
  std::uint16_t type = 0;
  std::uint64_t sequence = 0;
  std::vector<std::uint8_t> payload;
};

class TestHost {
 public:
  using Pump = std::function<void()>;

  // Opens and maps segment `name`; nullopt (and `why`) when it is not there or not valid.
  static std::optional<TestHost> open(const std::string& name, std::string* why = nullptr) {
    const auto fail = [why](std::string text) {
      if (why != nullptr) *why = std::move(text);
      return std::optional<TestHost>{};
    };
    const int fd = ::shm_open(name.c_str(), O_RDWR, 0);
    if (fd < 0) return fail("shm_open " + name + ": " + std::strerror(errno));
    struct stat st{};
    if (::fstat(fd, &st) != 0 || static_cast<std::size_t>(st.st_size) < sizeof(sb_segment_header)) {
      ::close(fd);
      return fail("segment too small");
    }
    void* map = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
      ::close(fd);
      return fail("mmap: " + std::string(std::strerror(errno)));
    }
    TestHost host(fd, static_cast<std::uint8_t*>(map), static_cast<std::size_t>(st.st_size));
    const sb_segment_header& h = host.header();
    if (h.magic != SB_SHM_MAGIC || h.version != SB_SHM_VERSION || h.header_size != sizeof(sb_segment_header)) {
      return fail("not a version 1 segment");
    }
    if (sb_load_u32(&h.state) != SB_SEGMENT_READY) return fail("segment not ready");
    return host;
  }

  TestHost(TestHost&& other) noexcept
      : fd_(std::exchange(other.fd_, -1)),
        base_(std::exchange(other.base_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        slot_(std::exchange(other.slot_, -1)),
        in_(other.in_),
        out_(other.out_),
        generation_(other.generation_) {}
  TestHost& operator=(TestHost&&) = delete;
  TestHost(const TestHost&) = delete;
  TestHost& operator=(const TestHost&) = delete;
  ~TestHost() {
    if (fd_ >= 0) ::close(fd_);  // releases the OFD lock
    if (base_ != nullptr) ::munmap(base_, size_);
  }

  [[nodiscard]] const sb_segment_header& header() const { return *reinterpret_cast<const sb_segment_header*>(base_); }
  [[nodiscard]] std::uint8_t* base() { return base_; }
  [[nodiscard]] int slot_index() const { return slot_; }
  [[nodiscard]] sb_host_slot& slot_at(int i) {
    return *reinterpret_cast<sb_host_slot*>(base_ + header().host_slots_offset +
                                            static_cast<std::size_t>(i) * sizeof(sb_host_slot));
  }
  [[nodiscard]] sb_host_slot& slot() { return slot_at(slot_); }
  [[nodiscard]] std::uint32_t slot_state() { return sb_load_u32(&slot().state); }
  [[nodiscard]] std::uint64_t slot_generation() { return sb_load_u64(&slot().generation); }
  [[nodiscard]] std::uint64_t attached_generation() const { return generation_; }
  [[nodiscard]] sb_ring& in() { return in_; }
  [[nodiscard]] sb_ring& out() { return out_; }
  [[nodiscard]] sb_ring_header& in_header() { return *ring_header(slot().in_ring_offset); }
  [[nodiscard]] sb_ring_header& out_header() { return *ring_header(slot().out_ring_offset); }
  [[nodiscard]] int fd() const { return fd_; }

  // Attach step 2: the first slot whose OFD lock this host gets and whose state is FREE.
  // Returns its index, or -1.
  int lock_slot() {
    const std::uint32_t n = header().max_hosts;
    for (std::uint32_t i = 0; i < n; ++i) {
      if (!set_lock(static_cast<int>(i), F_WRLCK)) continue;
      if (sb_load_u32(&slot_at(static_cast<int>(i)).state) == SB_SLOT_FREE) {
        slot_ = static_cast<int>(i);
        return slot_;
      }
      set_lock(static_cast<int>(i), F_UNLCK);
    }
    return -1;
  }

  // Attach steps 3 and 4: request, pump the daemon until ATTACHED, bind both rings.
  bool attach(std::uint32_t flags, const Pump& pump, std::chrono::milliseconds timeout = std::chrono::seconds(2)) {
    if (slot_ < 0 && lock_slot() < 0) return false;
    request_attach(flags);
    if (!wait_state(SB_SLOT_ATTACHED, pump, timeout)) return false;
    bind();
    return true;
  }
  // Step 3 alone (the slot must be locked): flags, pid, then ATTACH_REQUESTED with release.
  void request_attach(std::uint32_t flags) {
    slot().attach_flags = flags;
    slot().host_pid = static_cast<std::uint32_t>(::getpid());
    sb_store_u32(&slot().state, SB_SLOT_ATTACH_REQUESTED);
  }
  // After ATTACHED: both rings as the daemon reset them.
  void bind() {
    generation_ = slot_generation();
    sb_ring_bind_writer(&in_, base_, &in_header(), header().max_record_size);
    sb_ring_bind_reader(&out_, base_, &out_header(), header().max_record_size);
  }

  // Detach: DETACH_REQUESTED, pump until FREE, unlock.
  bool detach(const Pump& pump, std::chrono::milliseconds timeout = std::chrono::seconds(2)) {
    sb_store_u32(&slot().state, SB_SLOT_DETACH_REQUESTED);
    if (!wait_state(SB_SLOT_FREE, pump, timeout)) return false;
    set_lock(slot_, F_UNLCK);
    slot_ = -1;
    return true;
  }

  // Dies without detaching: unmaps and closes, as the kernel does for a process that exits.
  // Both are needed: the lock belongs to the open file description, which a mapping made
  // through the descriptor keeps open after close(). Look at the slot through another host.
  void die() {
    if (base_ != nullptr) ::munmap(base_, size_);
    base_ = nullptr;
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  bool wait_state(std::uint32_t state, const Pump& pump, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (sb_load_u32(&slot().state) != state) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      if (pump) {
        pump();
      } else {
        std::this_thread::yield();
      }
    }
    return true;
  }

  // Encodes `event` (its own sequence) and writes it.
  sb_ring_status send(const Event& event, std::uint16_t flags = 0) {
    encoded_.clear();
    const Result<std::uint16_t> type = encode_event(event, encoded_);
    if (!type) return SB_RING_TOO_BIG;
    return send_raw(type.value(), flags, event.sequence, encoded_);
  }
  sb_ring_status send_raw(std::uint16_t type, std::uint16_t flags, std::uint64_t sequence,
                          std::span<const std::uint8_t> payload) {
    return sb_ring_write(&in_, type, flags, sequence, payload.data(), static_cast<std::uint32_t>(payload.size()));
  }
  // Claims a record of `length` bytes and never commits it (a writer that stalled or died
  // between the claim and the commit).
  sb_record_header* claim_only(std::uint32_t length, std::uint16_t type, std::uint64_t sequence) {
    sb_record_header* rec = nullptr;
    if (sb_ring_claim(&in_, length, type, 0, sequence, &rec) != SB_RING_OK) return nullptr;
    return rec;
  }

  // Reads one outbound record (padding skipped); nullopt when none is committed.
  std::optional<Received> receive() {
    const sb_record_header* rec = nullptr;
    if (sb_ring_peek(&out_, &rec) != SB_RING_OK) return std::nullopt;
    Received r;
    r.type = rec->type;
    r.sequence = rec->sequence;
    const std::uint8_t* p = sb_record_payload(rec);
    r.payload.assign(p, p + sb_record_payload_size(rec));
    sb_ring_advance(&out_);
    sb_ring_publish(&out_);
    return r;
  }
  std::vector<Received> receive_all() {
    std::vector<Received> all;
    while (auto r = receive()) all.push_back(std::move(*r));
    return all;
  }

 private:
  TestHost(int fd, std::uint8_t* base, std::size_t size) : fd_(fd), base_(base), size_(size) {}

  sb_ring_header* ring_header(std::uint64_t offset) { return reinterpret_cast<sb_ring_header*>(base_ + offset); }

  bool set_lock(int slot, short type) {
    struct flock lock{};
    lock.l_type = type;
    lock.l_whence = SEEK_SET;
    lock.l_start = static_cast<off_t>(header().host_slots_offset + static_cast<std::uint64_t>(slot) * sizeof(sb_host_slot));
    lock.l_len = sizeof(sb_host_slot);
    lock.l_pid = 0;
    return ::fcntl(fd_, F_OFD_SETLK, &lock) == 0;
  }

  int fd_ = -1;
  std::uint8_t* base_ = nullptr;
  std::size_t size_ = 0;
  int slot_ = -1;
  sb_ring in_{};
  sb_ring out_{};
  std::uint64_t generation_ = 0;
  std::vector<std::uint8_t> encoded_;
};

}  // namespace switchboard::shm::testing
