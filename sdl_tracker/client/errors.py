"""The client's one error: a request or a git command failed, said in one line a person can act on."""

from __future__ import annotations


class ClientError(Exception):
    """A request could not be made or was refused, or git failed; the message is one line a person can act on."""
