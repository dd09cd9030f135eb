"""RawDispatch against nats-py's own protocol parser: the frames of a routed subscription are
handed out once each, in order and never through nats-py's queue, however the bytes arrive;
everything else still reaches nats-py."""

from __future__ import annotations

import pytest

pytest.importorskip("nats")

from nats.protocol.parser import Parser  # noqa: E402

from segue.log.jetstream_io import RawDispatch  # noqa: E402

OURS, OTHER = 7, 9


class FakeClient:
    """What nats-py's parser calls back into, recording every message in arrival order."""

    def __init__(self, arrivals: list) -> None:
        self.arrivals = arrivals
        self._ps = Parser(self)

    async def _process_msg(self, sid, subject, reply, data, headers) -> None:
        self.arrivals.append(("nats-py", sid, bytes(subject), data))  # would be queued for a callback

    async def _process_ping(self) -> None:
        self.arrivals.append("PING")


class Subscription:
    _id = OURS


def hmsg(sid: int, subject: bytes, reply: bytes, headers: bytes, data: bytes) -> bytes:
    line = b" ".join(part for part in (b"HMSG", subject, str(sid).encode(), reply) if part)
    return line + b" %d %d\r\n" % (len(headers), len(headers) + len(data)) + headers + data + b"\r\n"


def msg(sid: int, subject: bytes, data: bytes) -> bytes:
    return b"MSG %s %d %d\r\n%s\r\n" % (subject, sid, len(data), data)


HEADERS = b"NATS/1.0\r\nNats-Msg-Id: src:m1\r\n\r\n"
STREAM = [
    hmsg(OURS, b"segue.events.s.3.src", b"$JS.ACK.S.c.1.1.1.0.2", HEADERS, b"[1,\"m1\"]\n{}"),
    hmsg(OURS, b"segue.events.s.4.src", b"$JS.ACK.S.c.1.2.2.0.1", HEADERS, b"[2,\"m2\"]\n{\"a\":1}"),
    msg(OTHER, b"_INBOX.acks.1", b"{\"seq\":3}"),
    hmsg(OURS, b"segue.events.s.3.src", b"$JS.ACK.S.c.1.3.3.0.0", HEADERS, b"[3,\"m3\"]\n{}"),
    b"PING\r\n",
    msg(OURS, b"segue.events.s.1.src", b"[4,\"m4\"]\n{}"),
    hmsg(OURS, b"_INBOX.r", b"", b"NATS/1.0 404 No Messages\r\n\r\n", b""),
]
EXPECTED = [(OURS, b"segue.events.s.3.src", b"$JS.ACK.S.c.1.1.1.0.2", b"[1,\"m1\"]\n{}"),
            (OURS, b"segue.events.s.4.src", b"$JS.ACK.S.c.1.2.2.0.1", b"[2,\"m2\"]\n{\"a\":1}"),
            ("nats-py", OTHER, b"_INBOX.acks.1", b"{\"seq\":3}"),
            (OURS, b"segue.events.s.3.src", b"$JS.ACK.S.c.1.3.3.0.0", b"[3,\"m3\"]\n{}"),
            "PING",
            (OURS, b"segue.events.s.1.src", b"", b"[4,\"m4\"]\n{}"),
            (OURS, b"_INBOX.r", b"", b"")]


def routed_client(handler=None) -> tuple[FakeClient, list]:
    """A client whose parser hands subscription OURS's frames to `handler` (by default: into
    the arrivals, beside what reaches nats-py's own delivery)."""
    arrivals: list = []
    client = FakeClient(arrivals)
    dispatch = RawDispatch(client)
    assert dispatch.enabled, "this nats-py's parser is not the one RawDispatch knows: readers would be slow"

    def record(frames) -> None:
        arrivals.extend((OURS, subject, reply, data) for subject, reply, data, _ in frames)

    assert dispatch.route(Subscription(), handler or record)
    return client, arrivals


@pytest.mark.parametrize("chunk", [1, 7, 64, 100_000])
async def test_every_frame_arrives_once_in_order_however_the_bytes_are_cut(chunk):
    """And none of a routed subscription's goes to nats-py's delivery, whose queue would hand
    it over after later frames taken directly: a reader's records would come out of order."""
    client, arrivals = routed_client()
    data = b"".join(STREAM)
    for start in range(0, len(data), chunk):
        await client._ps.parse(data[start : start + chunk])
    assert arrivals == EXPECTED
    assert not client._ps.buf


async def test_frames_come_with_their_headers_and_status_messages_with_theirs():
    frames: list = []
    client, arrivals = routed_client(frames.extend)
    await client._ps.parse(b"".join(STREAM[:2] + STREAM[-1:]))
    assert [frame[3] for frame in frames] == [HEADERS, HEADERS, b"NATS/1.0 404 No Messages\r\n\r\n"]
    assert arrivals == [], "nothing went the generic way"
