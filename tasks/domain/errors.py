"""The error classes the state machine routes on (their class names appear in the ASL Catch and Retry)."""

from __future__ import annotations


class GridflowError(Exception):
    """Base of every error gridflow raises on purpose."""


class InvalidFile(GridflowError):
    """The file cannot be trusted as a whole: it is quarantined with the rule that failed and why."""

    def __init__(self, rule: str, reason: str) -> None:
        super().__init__(f"{rule}: {reason}")
        self.rule = rule
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.rule}: {self.reason}"


class UnknownFeed(InvalidFile):
    """The object is not under inbound/<feed>/ of a declared feed."""

    def __init__(self, reason: str) -> None:
        super().__init__("unknown_feed", f"unknown feed: {reason}")


class InvalidFeedSpec(GridflowError):
    """A feed spec file that does not describe a usable feed (a deployment error, not a data error)."""


class TransientError(GridflowError):
    """Worth retrying: throttling or capacity that did not clear within one invocation."""


class NettingBusy(TransientError):
    """Another execution holds the feed's re-delivery netting lease; the state machine retries with backoff."""
