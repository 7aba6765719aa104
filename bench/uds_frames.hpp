#pragma once
// Records over a Unix domain stream socket, for the baseline of switchboard-shm-bench: each
// record is the 16-byte sb_record_header of docs/protocol.md ("Records") followed by its
// payload, exactly the bytes a ring holds for a committed record (commit = length with the
// committed bit), less the ring's padding to 8 bytes, which a stream does not need.
//
// Not thread-safe: a FrameReader belongs to the one thread that reads its socket.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "switchboard/shm/protocol.h"

namespace switchboard::bench {

// The largest frame either side accepts (header included): the daemon's default
// max_record_size, so both transports refuse the same records.
inline constexpr std::size_t kMaxFrame = std::size_t{64} << 10;

// Appends one frame (header and payload) to `out`.
void append_frame(std::vector<std::uint8_t>& out, std::uint16_t type, std::uint16_t flags,
                  std::uint64_t sequence, std::span<const std::uint8_t> payload);

struct Frame {
  std::uint16_t type = 0;
  std::uint16_t flags = 0;
  std::uint64_t sequence = 0;
  std::span<const std::uint8_t> payload;  // into the reader's buffer: valid until its next fill()
};

// Buffers what read(2) returns and cuts it into frames.
class FrameReader {
 public:
  enum class Next : std::uint8_t { frame, need_more, corrupt };

  explicit FrameReader(std::size_t capacity = std::size_t{256} << 10);

  // One read(2) from `fd` (blocking unless the fd is not) into the free end of the buffer,
  // moving the unread bytes to the front first. Returns what read returned: > 0 bytes, 0 at
  // end of stream, -1 with errno set.
  long fill(int fd);
  // The next complete frame: `frame` (and `out` set), `need_more` (fill again) or `corrupt`
  // (a length under 16 or over kMaxFrame: the stream cannot be cut any further).
  Next next(Frame& out);
  // Bytes received and not yet returned as frames.
  [[nodiscard]] std::size_t buffered() const noexcept { return end_ - begin_; }

 private:
  std::vector<std::uint8_t> buffer_;
  std::size_t begin_ = 0;  // first unread byte
  std::size_t end_ = 0;    // one past the last byte read
};

// Writes all of `bytes` to `fd` (send(2) with MSG_NOSIGNAL, retried on EINTR and short
// writes). Returns false with errno set when the socket fails.
bool write_all(int fd, std::span<const std::uint8_t> bytes);

}  // namespace switchboard::bench
