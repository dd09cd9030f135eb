"""The test helpers themselves: the no-I/O guard must really catch I/O."""

from __future__ import annotations

import socket
import time
import uuid

import pytest

from tests.destinations.helpers import no_io


@pytest.mark.parametrize("act", [
    lambda: time.time(), lambda: uuid.uuid4(), lambda: open(__file__), lambda: socket.create_connection(("127.0.0.1", 9)),
])
def test_no_io_catches_clock_randomness_files_and_network(act):
    with no_io(), pytest.raises(AssertionError, match="did I/O"):
        act()


def test_no_io_restores_everything():
    with no_io():
        pass
    assert time.time() > 0 and uuid.uuid4()
