"""The Python client of the Switchboard shared-memory protocol, version 1 (docs/protocol.md).

Standard library only: the segment is mapped with mmap, the host slot is owned with an open file
description lock (fcntl F_OFD_SETLK), payloads are packed with struct. Linux on x86-64 (or
another little-endian 64-bit machine whose aligned 8-byte stores are single accesses).

    import switchboard_shm as sb

    with sb.Client.attach("/switchboard", decisions=True) as client:
        vip = client.directory.queue("VIP Chat")
        client.send_agent_upsert("lesa", presence="available", capacity=3)
        client.send_join_queue("lesa", vip)
        client.send_item_arrive(17, vip)
        for record in client.poll_all():
            if isinstance(record, sb.Decision) and record.kind == "offer":
                client.send_offer_accept(record.item, record.agent)

Shared words. Python has no atomic read-modify-write, and the protocol needs none: every shared
word has one writer. The ring indices (`tail`, `head`), the record `commit` words and the state
words are read and written through memoryview.cast('Q') / cast('I') at their natural alignment,
which CPython turns into single aligned 8- and 4-byte loads and stores; x86-64 keeps stores in
program order and loads in program order (TSO), which is the release/acquire order the protocol
asks for. A record's commit word is always written last.

Threads: a Client is used by one thread at a time.
"""

from __future__ import annotations

import dataclasses
import fcntl
import mmap
import os
import struct
import time as _time
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

__all__ = [
    "Client", "Directory", "Decision", "ErrorRecord", "Ack", "Notice", "RawRecord",
    "SwitchboardError", "RingFull", "SlotReset", "DaemonGone", "RecordTooBig", "SegmentNotFound",
    "VersionMismatch", "AttachTimeout", "NoFreeSlot", "Corrupt", "Malformed", "segment_generation",
]

# --- constants (protocol.h) ----------------------------------------------------------------------

MAGIC = 0x314D485344425753  # "SWBDSHM1"
VERSION = 1
HEADER_SIZE = 192
SLOT_SIZE = 128
RING_HEADER_SIZE = 192
RECORD_HEADER_SIZE = 16
COMMITTED = 0x80000000
LENGTH_MASK = 0x7FFFFFFF

SEGMENT_INITIALIZING, SEGMENT_READY, SEGMENT_STOPPING = 0, 1, 2
SLOT_FREE, SLOT_ATTACH_REQUESTED, SLOT_ATTACHED, SLOT_DETACH_REQUESTED, SLOT_RESET = 0, 1, 2, 3, 4
ATTACH_DECISIONS = 1
FLAG_ACK = 1

AGENT_UPSERT = 1
AGENT_REMOVE = 2
PRESENCE_CHANGE = 3
CAPACITY_CHANGE = 4
JOIN_QUEUE = 5
LEAVE_QUEUE = 6
ITEM_ARRIVE = 7
ITEM_UPDATE = 8
ITEM_CANCEL = 9
ITEM_TRANSFER = 10
ITEM_COMPLETE = 11
OFFER_ACCEPT = 12
OFFER_DECLINE = 13
OFFER_TIMEOUT = 14
MANUAL_ASSIGN = 15
AGENT_PICK = 16
TICK = 17
DECISION = 0x100
ERROR = 0x101
ACK = 0x102
NOTICE = 0x103
PADDING = 0xFFFF

DECISION_KINDS = ("offer", "assigned", "requeued", "parked", "cancelled", "completed", "transferred")
DECIDED_BY = ("none", "method", "affinity", "rule", "manual", "pick", "accepted")
REASONS = ("none", "declined", "timed_out")
# kernel/include/switchboard/result.hpp, ErrorCode, in order.
ERROR_CODES = (
    "ok", "malformed_event", "unknown_agent", "unknown_item", "unknown_queue", "unknown_skill",
    "unknown_presence", "unknown_profile", "invalid_value", "duplicate_item", "item_not_offered",
    "offer_agent_mismatch", "item_not_assigned", "item_not_queued", "insufficient_capacity",
    "capacity_below_load", "not_a_member", "already_member", "agent_has_work", "same_queue",
    "config_syntax", "config_unknown_key", "config_type", "config_unknown_reference",
    "config_invalid_value", "config_condition", "config_io",
)

# Segment header offsets.
_H_MAGIC, _H_VERSION, _H_HEADER_SIZE, _H_SEGMENT_SIZE = 0, 8, 12, 16
_H_MAX_HOSTS, _H_SLOT_SIZE, _H_SLOTS_OFFSET = 24, 28, 32
_H_IN_CAPACITY, _H_OUT_CAPACITY, _H_MAX_RECORD, _H_DAEMON_PID = 40, 48, 56, 60
_H_GENERATION, _H_HEARTBEAT, _H_HEARTBEAT_INTERVAL, _H_STATE, _H_STUCK_TIMEOUT = 64, 72, 80, 88, 96
_H_DIRECTORY_OFFSET, _H_DIRECTORY_SIZE, _H_STATS_OFFSET, _H_STATS_SIZE = 128, 136, 144, 152
_H_QUEUE_COUNT, _H_PRESENCE_COUNT = 160, 164
# Slot offsets.
_S_STATE, _S_FLAGS, _S_GENERATION, _S_PID, _S_IN_RING, _S_OUT_RING = 0, 4, 8, 16, 24, 32
_S_RECORDS_IN, _S_ERRORS_OUT, _S_RESETS = 64, 72, 80
# Ring header offsets.
_R_TAIL, _R_HEAD, _R_CAPACITY, _R_DATA = 0, 64, 128, 136

STATS_FIELDS = ("updated_ns", "started_ns", "events_applied", "events_refused", "decisions",
                "malformed", "stuck_resets", "hosts_attached", "live_items", "agents",
                "backpressure_waits", "stall_resets", "hosts_died")

# The OFD lock: struct flock on x86-64 Linux is short l_type, short l_whence, (4 bytes padding)
# off_t l_start, off_t l_len, pid_t l_pid (must be 0 for OFD locks), 4 bytes padding: 32 bytes.
F_OFD_SETLK = getattr(fcntl, "F_OFD_SETLK", 37)
_FLOCK = struct.Struct("hhqqi4x")
assert _FLOCK.size == 32

_HEARTBEAT_MISSES = 5


# --- errors --------------------------------------------------------------------------------------

class SwitchboardError(Exception):
    """Base of every error this module raises."""


class RingFull(SwitchboardError):
    """Back-pressure: the inbound ring has no room now and nothing was written. Read what the
    daemon wrote (poll) and retry."""


class SlotReset(SwitchboardError):
    """The daemon reset this host's slot (a stuck or corrupt ring): records not acknowledged may
    be lost. Call reattach() and resend from the host's ledger."""


class DaemonGone(SwitchboardError):
    """The daemon stopped, its heartbeat is stale, or a new daemon replaced the segment: call
    reattach() (it attaches to the new segment) and resync (docs/protocol.md, "Resync")."""


class RecordTooBig(SwitchboardError):
    """The record exceeds the segment's max_record_size."""


class SegmentNotFound(SwitchboardError):
    """No segment at the name."""


class VersionMismatch(SwitchboardError):
    """Not a Switchboard segment of protocol version 1."""


class AttachTimeout(SwitchboardError):
    """The daemon did not answer a handshake in time."""


class NoFreeSlot(SwitchboardError):
    """Every host slot is taken."""


class Corrupt(SwitchboardError):
    """The segment or the outbound ring holds what no daemon writes."""


class Malformed(SwitchboardError, ValueError):
    """A payload that cannot be decoded, or a value the format cannot carry."""


# --- records received ----------------------------------------------------------------------------

Id = Union[int, str]


@dataclasses.dataclass(frozen=True)
class Decision:
    """A DECISION record. `sequence` is the daemon's decision number (1, 2, ... without gaps);
    `kind`, `decided_by` and `reason` are the names of docs/events.md."""
    sequence: int
    kind: str
    decided_by: str
    reason: str
    rule: int
    cause_slot: int
    cause_sequence: int
    time: int
    queue: int
    from_queue: int
    item: Id
    agent: Optional[Id]


@dataclasses.dataclass(frozen=True)
class ErrorRecord:
    """An ERROR record: the host's record with sequence `sequence` was refused."""
    sequence: int
    code: int
    code_name: str
    record_type: int
    message: str


@dataclasses.dataclass(frozen=True)
class Ack:
    """An ACK record: the record with sequence `sequence` (sent with ack=True) was applied."""
    sequence: int
    cause_slot: int


@dataclasses.dataclass(frozen=True)
class Notice:
    """A NOTICE record (code 1: ring reset)."""
    code: int
    message: str


@dataclasses.dataclass(frozen=True)
class RawRecord:
    """An outbound record of a type this client does not know."""
    type: int
    flags: int
    sequence: int
    payload: bytes


# --- payloads ------------------------------------------------------------------------------------

class _Writer:
    """Appends the field types of docs/protocol.md, "Payloads"."""

    __slots__ = ("out",)

    def __init__(self) -> None:
        self.out = bytearray()

    def u8(self, v: int) -> None:
        self.out += struct.pack("<B", v)

    def u16(self, v: int) -> None:
        self.out += struct.pack("<H", v)

    def u32(self, v: int) -> None:
        self.out += struct.pack("<I", v)

    def u64(self, v: int) -> None:
        self.out += struct.pack("<Q", v)

    def i32(self, v: int) -> None:
        self.out += struct.pack("<i", v)

    def i64(self, v: int) -> None:
        self.out += struct.pack("<q", v)

    def boolean(self, v: bool) -> None:
        self.u8(1 if v else 0)

    def id(self, v: Id) -> None:
        if isinstance(v, bool) or not isinstance(v, (int, str)):
            raise Malformed(f"an id is an int >= 0 or a str, not {v!r}")
        if isinstance(v, int):
            if not 0 <= v < 1 << 64:
                raise Malformed(f"a numeric id is 0 .. 2^64-1, not {v}")
            self.u8(0)
            self.u64(v)
            return
        raw = v.encode("utf-8")
        if not 1 <= len(raw) <= 255:
            raise Malformed(f"a name id has 1 to 255 UTF-8 bytes, not {len(raw)}: {v!r}")
        self.u8(1)
        self.u16(len(raw))
        self.out += raw

    def str(self, v: str) -> None:
        raw = v.encode("utf-8")
        if len(raw) > 0xFFFF:
            raise Malformed(f"a string has at most 65,535 bytes, not {len(raw)}")
        self.u16(len(raw))
        self.out += raw

    def count(self, n: int) -> None:
        if n > 0xFFFF:
            raise Malformed(f"a list has at most 65,535 entries, not {n}")
        self.u16(n)

    def opt(self, present: bool) -> None:
        self.u8(1 if present else 0)


class _Reader:
    """Reads fields front to back; any read past the end raises Malformed."""

    __slots__ = ("data", "pos", "what")

    def __init__(self, data: bytes, what: str) -> None:
        self.data = data
        self.pos = 0
        self.what = what

    def _take(self, fmt: str, size: int) -> Any:
        if len(self.data) - self.pos < size:
            raise Malformed(f"{self.what}: payload ends after {len(self.data)} bytes (reading at {self.pos})")
        (v,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return v

    def u8(self) -> int:
        return self._take("<B", 1)

    def u16(self) -> int:
        return self._take("<H", 2)

    def u32(self) -> int:
        return self._take("<I", 4)

    def u64(self) -> int:
        return self._take("<Q", 8)

    def i64(self) -> int:
        return self._take("<q", 8)

    def small(self, limit: int, field: str) -> int:
        v = self.u8()
        if v > limit:
            raise Malformed(f"{self.what}: {field} {v} is out of range (0 .. {limit})")
        return v

    def text(self, n: int) -> str:
        if len(self.data) - self.pos < n:
            raise Malformed(f"{self.what}: a text of {n} bytes, but the payload ends after {len(self.data)}")
        raw = self.data[self.pos:self.pos + n]
        self.pos += n
        try:
            return bytes(raw).decode("utf-8")
        except UnicodeDecodeError as e:
            raise Malformed(f"{self.what}: text is not UTF-8: {e}") from None

    def str(self) -> str:
        return self.text(self.u16())

    def id(self) -> Id:
        kind = self.small(1, "id kind")
        if kind == 0:
            return self.u64()
        n = self.u16()
        if not 1 <= n <= 255:
            raise Malformed(f"{self.what}: a name id has 1 to 255 bytes, not {n}")
        return self.text(n)

    def finish(self) -> None:
        if self.pos != len(self.data):
            raise Malformed(f"{self.what}: {len(self.data) - self.pos} bytes left over")


def decode_decision(sequence: int, payload: bytes) -> Decision:
    r = _Reader(payload, "decision")
    kind = r.small(len(DECISION_KINDS) - 1, "kind")
    decided_by = r.small(len(DECIDED_BY) - 1, "decided_by")
    reason = r.small(len(REASONS) - 1, "reason")
    r.small(0, "reserved byte")
    rule = r.u16()
    cause_slot = r.u16()
    cause_sequence = r.u64()
    t = r.i64()
    queue = r.u32()
    from_queue = r.u32()
    item = r.id()
    agent = r.id() if r.small(1, "agent present") else None
    r.finish()
    return Decision(sequence, DECISION_KINDS[kind], DECIDED_BY[decided_by], REASONS[reason], rule,
                    cause_slot, cause_sequence, t, queue, from_queue, item, agent)


def decode_error(sequence: int, payload: bytes) -> ErrorRecord:
    r = _Reader(payload, "error")
    code = r.u16()
    record_type = r.u16()
    message = r.str()
    r.finish()
    name = ERROR_CODES[code] if code < len(ERROR_CODES) else f"error_{code}"
    return ErrorRecord(sequence, code, name, record_type, message)


def decode_ack(sequence: int, payload: bytes) -> Ack:
    r = _Reader(payload, "ack")
    slot = r.u16()
    r.finish()
    return Ack(sequence, slot)


def decode_notice(payload: bytes) -> Notice:
    r = _Reader(payload, "notice")
    code = r.u16()
    message = r.str()
    r.finish()
    return Notice(code, message)


# --- the directory -------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Directory:
    """The names of the daemon's configuration; a name's index is the number records use."""
    queues: tuple
    skills: tuple
    presences: tuple
    profiles: tuple
    channels: tuple

    @staticmethod
    def parse(data: bytes) -> "Directory":
        pos = 0
        lists = []
        for _ in range(5):
            if len(data) - pos < 4:
                raise Corrupt("directory: truncated list count")
            (count,) = struct.unpack_from("<I", data, pos)
            pos += 4
            names = []
            for _ in range(count):
                if len(data) - pos < 2:
                    raise Corrupt("directory: truncated name length")
                (n,) = struct.unpack_from("<H", data, pos)
                pos += 2
                if len(data) - pos < n:
                    raise Corrupt("directory: truncated name")
                names.append(bytes(data[pos:pos + n]).decode("utf-8", errors="replace"))
                pos += n
            lists.append(tuple(names))
        return Directory(*lists)

    @staticmethod
    def _find(names: tuple, name: str, what: str) -> int:
        try:
            return names.index(name)
        except ValueError:
            raise KeyError(f"unknown {what} {name!r} (declared: {', '.join(names)})") from None

    def queue(self, name: str) -> int:
        return self._find(self.queues, name, "queue")

    def skill(self, name: str) -> int:
        return self._find(self.skills, name, "skill")

    def presence(self, name: str) -> int:
        return self._find(self.presences, name, "presence")

    def profile(self, name: str) -> int:
        return self._find(self.profiles, name, "profile")

    def channel(self, name: str) -> int:
        return self._find(self.channels, name, "channel")


# --- rings ---------------------------------------------------------------------------------------

def _padded(length: int) -> int:
    return (length + 7) & ~7


class _Ring:
    """One side of a ring (ring.h, in Python): the header's words, private copies of indices."""

    def __init__(self, client: "Client", header: int, expected_capacity: int, writer: bool) -> None:
        if header % 64 != 0 or header + RING_HEADER_SIZE > client._segment_size:
            raise Corrupt(f"ring header at {header} is outside the segment")
        q = client._q
        self.capacity = q[(header + _R_CAPACITY) // 8]
        self.data = q[(header + _R_DATA) // 8]
        if self.capacity != expected_capacity or self.data % 8 != 0 or \
                self.data + self.capacity > client._segment_size:
            raise Corrupt(f"ring at {header}: capacity {self.capacity} or data {self.data} is wrong")
        self.mask = self.capacity - 1
        self.tail_word = (header + _R_TAIL) // 8
        self.head_word = (header + _R_HEAD) // 8
        self.max_record = client._max_record
        if writer:
            self.own, self.other = q[self.tail_word], q[self.head_word]
        else:
            self.own, self.other = q[self.head_word], q[self.tail_word]
        self.published = self.own


# --- the client ----------------------------------------------------------------------------------

def _deadline(timeout: Optional[float]) -> Optional[float]:
    return None if timeout is None else _time.monotonic() + timeout


def _expired(deadline: Optional[float]) -> bool:
    return deadline is not None and _time.monotonic() >= deadline


def _now_ms() -> int:
    return _time.time_ns() // 1_000_000


def segment_generation(name: str = "/switchboard") -> Optional[int]:
    """The generation of the ready segment now at `name`, or None when there is none (no file,
    not ready yet, not a version 1 segment). A host whose daemon is gone waits until this differs
    from Client.generation before it calls reattach(): until then the name still holds the dead
    daemon's segment, or none (docs/protocol.md, "Heartbeat and daemon restarts")."""
    try:
        fd = os.open("/dev/shm" + name, os.O_RDONLY)
    except OSError:
        return None
    try:
        if os.fstat(fd).st_size < HEADER_SIZE:
            return None
        with mmap.mmap(fd, HEADER_SIZE, mmap.MAP_SHARED, mmap.PROT_READ) as m:
            # state first: the daemon stores it last (READY), so what it published before is
            # there once it reads READY (x86-64 keeps loads in order).
            (state,) = struct.unpack_from("<I", m, _H_STATE)
            magic, version, header_size = struct.unpack_from("<QII", m, 0)
            (generation,) = struct.unpack_from("<Q", m, _H_GENERATION)
    finally:
        os.close(fd)
    if magic != MAGIC or version != VERSION or header_size != HEADER_SIZE or state != SEGMENT_READY:
        return None
    return generation or None


class Client:
    """A host attached to the daemon's segment: owns one host slot and its two rings."""

    def __init__(self, name: str, decisions: bool) -> None:
        if not name.startswith("/") or "/" in name[1:] or len(name) < 2:
            raise ValueError(f"segment name {name!r} must be '/' and a name without '/'")
        self.name = name
        self.attach_flags = ATTACH_DECISIONS if decisions else 0
        self.sequence = 0  # the last sequence number send_* numbered itself
        self._fd = -1
        self._map: Optional[mmap.mmap] = None
        self._views: list = []
        self._attached = False
        self._ended = False

    # -- attach / detach ------------------------------------------------------------------------

    @classmethod
    def attach(cls, name: str = "/switchboard", decisions: bool = True,
               timeout: Optional[float] = 2.0) -> "Client":
        """Opens and maps segment `name`, waits until it is ready (and for it to appear), takes a
        free slot and attaches. `decisions`: receive every decision. `timeout` in seconds bounds
        it all (None: no limit)."""
        client = cls(name, decisions)
        client._attach_fresh(_deadline(timeout))
        return client

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.detach()

    def _attach_fresh(self, deadline: Optional[float]) -> None:
        self._open_segment(deadline)
        try:
            self._own_slot(deadline)
            self._handshake(deadline)
        except BaseException:
            self._drop_segment()  # the lock goes with the descriptor: the daemon frees the slot
            raise

    def _open_segment(self, deadline: Optional[float]) -> None:
        path = "/dev/shm" + self.name
        delay = 0.0001
        while True:
            waiting: type = SegmentNotFound
            try:
                fd = os.open(path, os.O_RDWR)
            except FileNotFoundError:
                fd = -1
            if fd >= 0:
                keep = False
                try:
                    st = os.fstat(fd)
                    waiting = AttachTimeout
                    if st.st_size >= 4096:
                        m = mmap.mmap(fd, st.st_size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
                        magic, version, header_size = struct.unpack_from("<QII", m, 0)
                        (state,) = struct.unpack_from("<I", m, _H_STATE)
                        foreign = (magic != MAGIC or version != VERSION or header_size != HEADER_SIZE) \
                            if state == SEGMENT_READY else magic not in (0, MAGIC)
                        if foreign:
                            m.close()
                            raise VersionMismatch(f"{path} is not a Switchboard segment of protocol version 1")
                        if state == SEGMENT_READY:
                            self._fd, self._map, self._stat = fd, m, st
                            keep = True
                            self._bind_segment()
                            return
                        m.close()
                        if state == SEGMENT_STOPPING:
                            waiting = DaemonGone
                finally:
                    if not keep:
                        os.close(fd)
            if _expired(deadline):
                raise waiting(f"no ready segment at {self.name}")
            _time.sleep(delay)
            delay = min(delay * 2, 0.001)

    def _bind_segment(self) -> None:
        m = self._map
        assert m is not None
        self._mv = memoryview(m)
        self._q = self._mv.cast("Q")
        self._i = self._mv.cast("I")
        self._views = [self._q, self._i, self._mv]
        q, i = self._q, self._i
        size = q[_H_SEGMENT_SIZE // 8]
        if size > self._stat.st_size or size < HEADER_SIZE:
            raise Corrupt(f"segment_size {size} does not fit the file ({self._stat.st_size} bytes)")
        self._segment_size = size
        self._max_hosts = i[_H_MAX_HOSTS // 4]
        self._slots = q[_H_SLOTS_OFFSET // 8]
        self._in_capacity = q[_H_IN_CAPACITY // 8]
        self._out_capacity = q[_H_OUT_CAPACITY // 8]
        self._max_record = i[_H_MAX_RECORD // 4]
        if i[_H_SLOT_SIZE // 4] != SLOT_SIZE or self._max_hosts == 0 or self._slots % 64 != 0 or \
                self._slots + self._max_hosts * SLOT_SIZE > size:
            raise Corrupt("host slot table is outside the segment")
        for cap in (self._in_capacity, self._out_capacity):
            if cap == 0 or cap & (cap - 1):
                raise Corrupt(f"ring capacity {cap} is not a power of two")
        if not RECORD_HEADER_SIZE <= self._max_record <= min(self._in_capacity, self._out_capacity):
            raise Corrupt(f"max_record_size {self._max_record} is out of range")
        d_off, d_size = q[_H_DIRECTORY_OFFSET // 8], q[_H_DIRECTORY_SIZE // 8]
        if d_off + d_size > size:
            raise Corrupt("directory is outside the segment")
        self.directory = Directory.parse(bytes(self._mv[d_off:d_off + d_size])) if d_size else \
            Directory((), (), (), (), ())
        self._generation = q[_H_GENERATION // 8]
        interval = q[_H_HEARTBEAT_INTERVAL // 8]
        self._heartbeat_interval = (interval if interval else 10_000_000) / 1e9
        self._heartbeat_value = q[_H_HEARTBEAT // 8]
        self._heartbeat_seen = _time.monotonic()
        self._ended = False

    def _drop_segment(self) -> None:
        for v in self._views:
            v.release()
        self._views = []
        if self._map is not None:
            self._map.close()
        if self._fd >= 0:
            os.close(self._fd)  # releases the OFD lock
        self._fd = -1
        self._map = None
        self._attached = False

    def _lock(self, index: int, kind: int) -> bool:
        start = self._slots + index * SLOT_SIZE
        try:
            fcntl.fcntl(self._fd, F_OFD_SETLK, _FLOCK.pack(kind, os.SEEK_SET, start, SLOT_SIZE, 0))
            return True
        except OSError as e:
            if e.errno in (11, 13):  # EAGAIN, EACCES: another host holds it
                return False
            raise

    def _own_slot(self, deadline: Optional[float]) -> None:
        delay = 0.0001
        while True:
            for index in range(self._max_hosts):
                if not self._lock(index, fcntl.F_WRLCK):
                    continue
                slot = self._slots + index * SLOT_SIZE
                if self._i[(slot + _S_STATE) // 4] != SLOT_FREE:
                    # Its owner died and the daemon has not freed it yet.
                    self._lock(index, fcntl.F_UNLCK)
                    continue
                self.slot_index = index
                self._slot = slot
                return
            if _expired(deadline):
                raise NoFreeSlot(f"all {self._max_hosts} host slots of {self.name} are taken")
            _time.sleep(delay)
            delay = min(delay * 2, 0.001)

    def _slot_state(self) -> int:
        return self._i[(self._slot + _S_STATE) // 4]

    def _slot_generation(self) -> int:
        return self._q[(self._slot + _S_GENERATION) // 8]

    def _wait_slot(self, leaving: int, deadline: Optional[float]) -> int:
        delay = 0.00002
        while True:
            state = self._slot_state()
            if state != leaving:
                return state
            if self._gone(False):
                raise DaemonGone(f"the daemon of {self.name} is gone")
            if _expired(deadline):
                raise AttachTimeout(f"the daemon did not answer slot {self.slot_index} in time")
            _time.sleep(delay)
            delay = min(delay * 2, 0.001)

    def _handshake(self, deadline: Optional[float]) -> None:
        self._attached = False
        i = self._i
        i[(self._slot + _S_FLAGS) // 4] = self.attach_flags
        i[(self._slot + _S_PID) // 4] = os.getpid()
        i[(self._slot + _S_STATE) // 4] = SLOT_ATTACH_REQUESTED  # last: the daemon acts on it
        state = self._wait_slot(SLOT_ATTACH_REQUESTED, deadline)
        if state != SLOT_ATTACHED:
            raise Corrupt(f"slot {self.slot_index} went from attach requested to {state}")
        self._bind_attached()

    def _bind_attached(self) -> None:
        q = self._q
        self.slot_generation = self._slot_generation()
        self._in = _Ring(self, q[(self._slot + _S_IN_RING) // 8], self._in_capacity, True)
        self._out = _Ring(self, q[(self._slot + _S_OUT_RING) // 8], self._out_capacity, False)
        self._broken = False
        self._attached = True

    def reattach(self, timeout: Optional[float] = 2.0) -> None:
        """After SlotReset: asks the daemon to attach this slot again (fresh rings). After
        DaemonGone: attaches to the segment now at the name. A healthy client is left as it is.
        Then resend (docs/protocol.md, "Resync")."""
        deadline = _deadline(timeout)
        if self._map is None or self._gone(True):
            self._drop_segment()
            self._attach_fresh(deadline)
            return
        state = self._slot_state()
        if state == SLOT_ATTACHED and self._broken:
            self._attached = False
            self._i[(self._slot + _S_STATE) // 4] = SLOT_DETACH_REQUESTED
            state = SLOT_DETACH_REQUESTED
        if state in (SLOT_ATTACH_REQUESTED, SLOT_DETACH_REQUESTED):
            state = self._wait_slot(state, deadline)
        if state == SLOT_ATTACHED:
            if not (self._attached and self._slot_generation() == self.slot_generation):
                self._bind_attached()
        elif state in (SLOT_FREE, SLOT_RESET):
            self._handshake(deadline)
        else:
            raise Corrupt(f"slot {self.slot_index} is in state {state}")

    def detach(self, timeout: Optional[float] = 2.0) -> None:
        """Asks the daemon to apply what is left and free the slot, waits for it (up to
        `timeout`), then unlocks and unmaps. Raises AttachTimeout if the daemon did not answer
        (the client is closed anyway; the daemon frees the slot once it sees the lock gone)."""
        if self._map is None:
            return
        try:
            if not self._gone(True) and self._slot_state() == SLOT_ATTACHED:
                if self._attached:
                    self._publish_head(force=True)
                self._i[(self._slot + _S_STATE) // 4] = SLOT_DETACH_REQUESTED
                try:
                    self._wait_slot(SLOT_DETACH_REQUESTED, _deadline(timeout))
                except DaemonGone:
                    pass
        finally:
            self._drop_segment()

    close = detach

    # -- liveness ---------------------------------------------------------------------------------

    def _heartbeat_stale(self) -> bool:
        value = self._q[_H_HEARTBEAT // 8]
        now = _time.monotonic()
        if value != self._heartbeat_value:
            self._heartbeat_value = value
            self._heartbeat_seen = now
            return False
        return now - self._heartbeat_seen > _HEARTBEAT_MISSES * self._heartbeat_interval

    def _replaced(self) -> bool:
        try:
            st = os.stat("/dev/shm" + self.name)
        except OSError:
            return False  # no file at the name proves nothing: state and heartbeat say more
        return (st.st_dev, st.st_ino) != (self._stat.st_dev, self._stat.st_ino)

    def _gone(self, look_at_name: bool) -> bool:
        if self._map is None or self._ended:
            return True
        if self._i[_H_STATE // 4] == SEGMENT_STOPPING or self._q[_H_GENERATION // 8] != self._generation \
                or (look_at_name and self._replaced()):
            self._ended = True  # final: this segment's daemon will not come back
            return True
        return self._heartbeat_stale()

    def _check_link(self) -> None:
        if self._map is None or self._i[_H_STATE // 4] == SEGMENT_STOPPING:
            raise DaemonGone(f"the daemon of {self.name} is gone")
        if not self._attached or self._slot_state() != SLOT_ATTACHED or \
                self._slot_generation() != self.slot_generation:
            raise SlotReset(f"slot {self.slot_index} was reset: reattach and resend")

    def daemon_alive(self) -> bool:
        """False when the daemon's heartbeat has not changed for 5 intervals, it is stopping, or
        another segment is now at the name. (A reset slot does not make it dead: see
        slot_reset().)"""
        return not self._gone(True)

    def slot_reset(self) -> bool:
        """True when the daemon reset this slot (or it is not attached): reattach()."""
        if self._map is None:
            return True
        return not self._attached or self._slot_state() != SLOT_ATTACHED or \
            self._slot_generation() != self.slot_generation

    @property
    def max_payload(self) -> int:
        return self._max_record - RECORD_HEADER_SIZE

    @property
    def generation(self) -> int:
        """The segment's generation (a new daemon has another)."""
        return self._generation

    def stats(self) -> dict:
        """The statistics block: counters, then queue depths and agents by presence."""
        q = self._q
        base = q[_H_STATS_OFFSET // 8] // 8
        out = {name: q[base + k] for k, name in enumerate(STATS_FIELDS)}
        nq, np_ = self._i[_H_QUEUE_COUNT // 4], self._i[_H_PRESENCE_COUNT // 4]
        out["queue_depths"] = [q[base + 16 + k] for k in range(nq)]
        out["agents_by_presence"] = [q[base + 16 + nq + k] for k in range(np_)]
        return out

    # -- sending ----------------------------------------------------------------------------------

    def send_raw(self, record_type: int, payload: bytes = b"", sequence: Optional[int] = None,
                 ack: bool = False, flags: int = 0) -> int:
        """Writes one record (any type but padding) and returns its sequence number. Raises
        RingFull (nothing written: poll, then retry), SlotReset, DaemonGone, RecordTooBig."""
        self._check_link()
        auto = sequence is None
        if auto:
            sequence = self.sequence + 1
        if record_type == PADDING or not 0 <= record_type <= 0xFFFF:
            raise ValueError(f"record type {record_type} cannot be sent")
        ring = self._in
        length = RECORD_HEADER_SIZE + len(payload)
        if length > ring.max_record:
            raise RecordTooBig(f"a record of {length} bytes; the segment takes at most {ring.max_record}")
        padded = _padded(length)
        capacity = ring.capacity
        offset = ring.own & ring.mask
        pad = capacity - offset if offset + padded > capacity else 0
        need = pad + padded
        q, i, mv = self._q, self._i, self._mv
        if ring.own + need - ring.other > capacity:
            ring.other = q[ring.head_word]
            if ring.own + need - ring.other > capacity:
                if self._gone(False):
                    raise DaemonGone(f"the daemon of {self.name} is gone")
                raise RingFull("the inbound ring is full: poll, then retry")
        if pad:
            at = ring.data + offset
            struct.pack_into("<HH", mv, at + 4, PADDING, 0)
            i[at // 4] = pad | COMMITTED
        at = ring.data + ((ring.own + pad) & ring.mask)
        i[at // 4] = length                      # 1. in progress ...
        ring.own += need
        q[ring.tail_word] = ring.own             #    ... then published
        struct.pack_into("<HHQ", mv, at + 4, record_type, (flags | (FLAG_ACK if ack else 0)) & 0xFFFF,
                         sequence)               # 2. the record
        if payload:
            mv[at + RECORD_HEADER_SIZE:at + length] = payload
        i[at // 4] = length | COMMITTED          # 3. committed, last
        if auto:
            self.sequence = sequence  # a record refused for room does not use up a number
        return sequence

    def _send(self, record_type: int, w: _Writer, time: Optional[int], sequence: Optional[int],
              ack: bool) -> int:
        return self.send_raw(record_type, bytes(w.out), sequence, ack)

    @staticmethod
    def _start(time: Optional[int]) -> _Writer:
        w = _Writer()
        w.i64(_now_ms() if time is None else time)
        return w

    def _index(self, names: tuple, v: Union[int, str], what: str) -> int:
        if isinstance(v, str):
            return Directory._find(names, v, what)
        return int(v)

    def _capacity(self, w: _Writer, capacity: Union[int, Mapping[str, Any]]) -> None:
        if isinstance(capacity, Mapping):
            units = int(capacity.get("units", 0))
            profiles = capacity.get("profiles", {}) or {}
        else:
            units, profiles = int(capacity), {}
        maxima: list = []
        for name, value in profiles.items():
            k = self._index(self.directory.profiles, name, "profile")
            while len(maxima) <= k:
                maxima.append(0)
            maxima[k] = int(value)
        if len(maxima) > 255:
            raise Malformed("at most 255 capacity profiles")
        w.i32(units)
        w.u8(len(maxima))
        for value in maxima:
            w.i32(value)

    @staticmethod
    def _attributes(w: _Writer, attributes: Mapping[str, Union[int, str, None]], allow_none: bool) -> None:
        # Keys in strictly ascending byte order: the daemon's decoder refuses any other order.
        items = sorted(attributes.items(), key=lambda kv: kv[0].encode("utf-8"))
        w.count(len(items))
        for key, value in items:
            w.str(key)
            if value is None:
                if not allow_none:
                    raise Malformed(f"attribute {key!r}: None (remove) is allowed in item_update only")
                w.u8(0)
            elif isinstance(value, int):
                w.u8(1)
                w.i64(value)
            elif isinstance(value, str):
                w.u8(2)
                w.str(value)
            else:
                raise Malformed(f"attribute {key!r}: a value is an int or a str, not {value!r}")

    def send_agent_upsert(self, agent: Id, *, presence: Union[int, str, None] = None,
                          skills: Optional[Mapping[Union[int, str], int]] = None,
                          capacity: Union[int, Mapping[str, Any], None] = None,
                          attributes: Optional[Mapping[str, Union[int, str]]] = None,
                          working: Optional[bool] = None,
                          shifts: Optional[Sequence[Sequence[int]]] = None,
                          time: Optional[int] = None, sequence: Optional[int] = None,
                          ack: bool = False) -> int:
        """agent_upsert. `presence`, skill and profile names or directory indices; `capacity`
        units or {"units": n, "profiles": {name: max}}; fields left None are not changed."""
        w = self._start(time)
        w.id(agent)
        w.opt(presence is not None)
        if presence is not None:
            w.u8(self._index(self.directory.presences, presence, "presence"))
        w.opt(skills is not None)
        if skills is not None:
            w.count(len(skills))
            for skill, level in skills.items():
                w.u16(self._index(self.directory.skills, skill, "skill"))
                w.i32(level)
        w.opt(capacity is not None)
        if capacity is not None:
            self._capacity(w, capacity)
        w.opt(attributes is not None)
        if attributes is not None:
            self._attributes(w, attributes, False)
        w.opt(working is not None)
        if working is not None:
            w.boolean(working)
        w.opt(shifts is not None)
        if shifts is not None:
            w.count(len(shifts))
            for start, end in shifts:
                w.i64(start)
                w.i64(end)
        return self._send(AGENT_UPSERT, w, time, sequence, ack)

    def send_agent_remove(self, agent: Id, *, time: Optional[int] = None,
                          sequence: Optional[int] = None, ack: bool = False) -> int:
        w = self._start(time)
        w.id(agent)
        return self._send(AGENT_REMOVE, w, time, sequence, ack)

    def send_presence_change(self, agent: Id, presence: Union[int, str], *, time: Optional[int] = None,
                             sequence: Optional[int] = None, ack: bool = False) -> int:
        w = self._start(time)
        w.id(agent)
        w.u8(self._index(self.directory.presences, presence, "presence"))
        return self._send(PRESENCE_CHANGE, w, time, sequence, ack)

    def send_capacity_change(self, agent: Id, capacity: Union[int, Mapping[str, Any]], *,
                             time: Optional[int] = None, sequence: Optional[int] = None,
                             ack: bool = False) -> int:
        w = self._start(time)
        w.id(agent)
        self._capacity(w, capacity)
        return self._send(CAPACITY_CHANGE, w, time, sequence, ack)

    def _agent_queue(self, record_type: int, agent: Id, queue: Union[int, str], time: Optional[int],
                     sequence: Optional[int], ack: bool) -> int:
        w = self._start(time)
        w.id(agent)
        w.u32(self._index(self.directory.queues, queue, "queue"))
        return self._send(record_type, w, time, sequence, ack)

    def send_join_queue(self, agent: Id, queue: Union[int, str], *, time: Optional[int] = None,
                        sequence: Optional[int] = None, ack: bool = False) -> int:
        return self._agent_queue(JOIN_QUEUE, agent, queue, time, sequence, ack)

    def send_leave_queue(self, agent: Id, queue: Union[int, str], *, time: Optional[int] = None,
                         sequence: Optional[int] = None, ack: bool = False) -> int:
        return self._agent_queue(LEAVE_QUEUE, agent, queue, time, sequence, ack)

    def send_item_arrive(self, item: Id, queue: Union[int, str], *, created: Optional[int] = None,
                         last_message: Optional[int] = None,
                         attributes: Optional[Mapping[str, Union[int, str]]] = None,
                         skills: Union[Mapping[Union[int, str], Optional[int]], Iterable[Union[int, str]], None] = None,
                         units: Optional[int] = None, affinity_agent: Optional[Id] = None,
                         time: Optional[int] = None, sequence: Optional[int] = None,
                         ack: bool = False) -> int:
        """item_arrive. `skills`: {skill: min proficiency or None} or [skill, ...] (no minimum)."""
        w = self._start(time)
        w.id(item)
        w.u32(self._index(self.directory.queues, queue, "queue"))
        for v in (created, last_message):
            w.opt(v is not None)
            if v is not None:
                w.i64(v)
        self._attributes(w, attributes or {}, False)
        if skills is None:
            pairs: list = []
        elif isinstance(skills, Mapping):
            pairs = list(skills.items())
        else:
            pairs = [(s, None) for s in skills]
        w.count(len(pairs))
        for skill, minimum in pairs:
            w.u16(self._index(self.directory.skills, skill, "skill"))
            w.i32(-1 if minimum is None else minimum)
        w.opt(units is not None)
        if units is not None:
            w.i32(units)
        w.opt(affinity_agent is not None)
        if affinity_agent is not None:
            w.id(affinity_agent)
        return self._send(ITEM_ARRIVE, w, time, sequence, ack)

    def send_item_update(self, item: Id, attributes: Optional[Mapping[str, Union[int, str, None]]] = None, *,
                         last_message: Optional[int] = None, time: Optional[int] = None,
                         sequence: Optional[int] = None, ack: bool = False) -> int:
        """item_update: attributes set (None removes one), last_message."""
        w = self._start(time)
        w.id(item)
        self._attributes(w, attributes or {}, True)
        w.opt(last_message is not None)
        if last_message is not None:
            w.i64(last_message)
        return self._send(ITEM_UPDATE, w, time, sequence, ack)

    def _item_only(self, record_type: int, item: Id, time: Optional[int], sequence: Optional[int],
                   ack: bool) -> int:
        w = self._start(time)
        w.id(item)
        return self._send(record_type, w, time, sequence, ack)

    def send_item_cancel(self, item: Id, *, time: Optional[int] = None, sequence: Optional[int] = None,
                         ack: bool = False) -> int:
        return self._item_only(ITEM_CANCEL, item, time, sequence, ack)

    def send_item_complete(self, item: Id, *, time: Optional[int] = None, sequence: Optional[int] = None,
                           ack: bool = False) -> int:
        return self._item_only(ITEM_COMPLETE, item, time, sequence, ack)

    def send_item_transfer(self, item: Id, queue: Union[int, str], *, time: Optional[int] = None,
                           sequence: Optional[int] = None, ack: bool = False) -> int:
        w = self._start(time)
        w.id(item)
        w.u32(self._index(self.directory.queues, queue, "queue"))
        return self._send(ITEM_TRANSFER, w, time, sequence, ack)

    def _item_agent(self, record_type: int, item: Id, agent: Id, time: Optional[int],
                    sequence: Optional[int], ack: bool) -> int:
        w = self._start(time)
        w.id(item)
        w.id(agent)
        return self._send(record_type, w, time, sequence, ack)

    def send_offer_accept(self, item: Id, agent: Id, *, time: Optional[int] = None,
                          sequence: Optional[int] = None, ack: bool = False) -> int:
        return self._item_agent(OFFER_ACCEPT, item, agent, time, sequence, ack)

    def send_offer_decline(self, item: Id, agent: Id, *, time: Optional[int] = None,
                           sequence: Optional[int] = None, ack: bool = False) -> int:
        return self._item_agent(OFFER_DECLINE, item, agent, time, sequence, ack)

    def send_offer_timeout(self, item: Id, agent: Id, *, time: Optional[int] = None,
                           sequence: Optional[int] = None, ack: bool = False) -> int:
        return self._item_agent(OFFER_TIMEOUT, item, agent, time, sequence, ack)

    def send_manual_assign(self, item: Id, agent: Id, *, time: Optional[int] = None,
                           sequence: Optional[int] = None, ack: bool = False) -> int:
        return self._item_agent(MANUAL_ASSIGN, item, agent, time, sequence, ack)

    def send_agent_pick(self, item: Id, agent: Id, *, time: Optional[int] = None,
                        sequence: Optional[int] = None, ack: bool = False) -> int:
        return self._item_agent(AGENT_PICK, item, agent, time, sequence, ack)

    def send_tick(self, *, time: Optional[int] = None, sequence: Optional[int] = None,
                  ack: bool = False) -> int:
        return self._send(TICK, self._start(time), time, sequence, ack)

    # -- receiving --------------------------------------------------------------------------------

    def _publish_head(self, force: bool = False) -> None:
        ring = self._out
        if ring.own != ring.published and (force or ring.own - ring.published >= ring.capacity // 8):
            self._q[ring.head_word] = ring.own
            ring.published = ring.own

    def poll_raw(self) -> Optional[RawRecord]:
        """The next outbound record, undecoded, or None when there is none now. Records written
        before a reset or the daemon's death are still returned; once the ring is empty this
        raises SlotReset or DaemonGone when that is the case."""
        if self._map is None:
            raise DaemonGone(f"not attached to {self.name}")
        if not self._attached:
            if self._gone(False):
                raise DaemonGone(f"the daemon of {self.name} is gone")
            raise SlotReset(f"slot {self.slot_index} is not attached: reattach")
        if self._broken:
            raise Corrupt("the outbound ring is corrupt: reattach")
        ring = self._out
        q, i = self._q, self._i
        while True:
            if ring.own == ring.other:
                ring.other = q[ring.tail_word]
                if ring.own == ring.other:
                    break
            if ring.other < ring.own or ring.other - ring.own > ring.capacity:
                self._broken = True
                raise Corrupt("outbound tail out of range")
            offset = ring.own & ring.mask
            at = ring.data + offset
            commit = i[at // 4]
            if not commit & COMMITTED:
                break  # still being written
            length = commit & LENGTH_MASK
            padded = _padded(length)
            if length < 8 or padded > ring.other - ring.own or offset + padded > ring.capacity:
                self._broken = True
                raise Corrupt(f"outbound record length {length} at {ring.own}")
            record_type, flags, sequence = struct.unpack_from("<HHQ", self._mv, at + 4) \
                if length >= RECORD_HEADER_SIZE else (struct.unpack_from("<H", self._mv, at + 4)[0], 0, 0)
            if record_type == PADDING:
                if offset + padded != ring.capacity:
                    self._broken = True
                    raise Corrupt("padding record that does not run to the end of the ring")
                ring.own += padded
                continue
            if length < RECORD_HEADER_SIZE or length > ring.max_record:
                self._broken = True
                raise Corrupt(f"outbound record length {length} at {ring.own}")
            payload = bytes(self._mv[at + RECORD_HEADER_SIZE:at + length])
            ring.own += padded
            self._publish_head()
            return RawRecord(record_type, flags, sequence, payload)
        self._publish_head(force=True)
        if self._gone(False):
            raise DaemonGone(f"the daemon of {self.name} is gone")
        self._check_link()
        return None

    def poll(self) -> Union[Decision, ErrorRecord, Ack, Notice, RawRecord, None]:
        """The next outbound record, decoded (Decision, ErrorRecord, Ack, Notice; RawRecord for
        other types), or None. Raises as poll_raw, and Malformed for a payload that does not
        decode."""
        raw = self.poll_raw()
        if raw is None:
            return None
        if raw.type == DECISION:
            return decode_decision(raw.sequence, raw.payload)
        if raw.type == ERROR:
            return decode_error(raw.sequence, raw.payload)
        if raw.type == ACK:
            return decode_ack(raw.sequence, raw.payload)
        if raw.type == NOTICE:
            return decode_notice(raw.payload)
        return raw

    def poll_all(self, limit: Optional[int] = None) -> list:
        """Every record there is now (at most `limit`)."""
        out = []
        while limit is None or len(out) < limit:
            record = self.poll()
            if record is None:
                break
            out.append(record)
        return out
