"""Typed scoring errors that name the offending field (e.g. ``patches[2].hand_units``)."""


class ScoringError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
