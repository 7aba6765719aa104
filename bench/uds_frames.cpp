#include "uds_frames.hpp"

#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace switchboard::bench {

void append_frame(std::vector<std::uint8_t>& out, std::uint16_t type, std::uint16_t flags,
                  std::uint64_t sequence, std::span<const std::uint8_t> payload) {
  sb_record_header header{};
  header.commit = static_cast<std::uint32_t>(sizeof header + payload.size()) | SB_RECORD_COMMITTED;
  header.type = type;
  header.flags = flags;
  header.sequence = sequence;
  const std::size_t at = out.size();
  out.resize(at + sizeof header + payload.size());
  std::memcpy(out.data() + at, &header, sizeof header);
  if (!payload.empty()) std::memcpy(out.data() + at + sizeof header, payload.data(), payload.size());
}

FrameReader::FrameReader(std::size_t capacity) : buffer_(capacity < 2 * kMaxFrame ? 2 * kMaxFrame : capacity) {}

long FrameReader::fill(int fd) {
  if (begin_ != 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  // The buffer holds at least two largest frames, and next() returns every complete one before
  // fill() is called again, so after the move there is always room.
  const ssize_t n = ::read(fd, buffer_.data() + end_, buffer_.size() - end_);
  if (n > 0) end_ += static_cast<std::size_t>(n);
  return static_cast<long>(n);
}

FrameReader::Next FrameReader::next(Frame& out) {
  sb_record_header header;
  if (end_ - begin_ < sizeof header) return Next::need_more;
  std::memcpy(&header, buffer_.data() + begin_, sizeof header);
  const std::size_t length = header.commit & SB_RECORD_LENGTH_MASK;
  if (length < sizeof header || length > kMaxFrame) return Next::corrupt;
  if (end_ - begin_ < length) return Next::need_more;
  out.type = header.type;
  out.flags = header.flags;
  out.sequence = header.sequence;
  out.payload = std::span<const std::uint8_t>(buffer_.data() + begin_ + sizeof header, length - sizeof header);
  begin_ += length;
  return Next::frame;
}

bool write_all(int fd, std::span<const std::uint8_t> bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace switchboard::bench
