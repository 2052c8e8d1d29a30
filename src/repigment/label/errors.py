"""Typed errors of the label engine, naming the field at fault (``applications[3].at``)."""


class LabelInputError(ValueError):
    """Bad input to the engine: the CLI exits 2 and the API answers 422 with ``field`` and ``reason``."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class RulesetError(ValueError):
    """A ruleset file that the engine cannot use; names the file and the rule or key at fault."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason
