"""Loopback ports: one free to bind now, and one nothing listens on ('server down' as a client sees it)."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A loopback port free right now (bound and released: a server about to start takes it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def closed_port() -> int:
    """A loopback port nothing listens on: connecting to it is refused."""
    return free_port()


def closed_url() -> str:
    """An OpenMetadata API URL on a closed port."""
    return f"http://127.0.0.1:{closed_port()}/api"
