"""Errors every process raises at once.

A failure that only one process meets leaves the others waiting in their next
collective: pydl then aborts every process (world.abort). A failure that every
process detects together -- data or models that differ between them, found by
comparing what each one gathered -- is raised as a normal exception on all of them
instead, so that a script can catch it; `everywhere` marks such an exception.
"""

from __future__ import annotations


def everywhere(error: BaseException) -> BaseException:
    """Marks `error` as raised by every process alike; returns it (``raise everywhere(...)``)."""
    error._pydl_on_every_rank = True
    return error


def raised_everywhere(error: BaseException) -> bool:
    return bool(getattr(error, "_pydl_on_every_rank", False))
