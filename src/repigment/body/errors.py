"""Typed errors of the body model, naming the field at fault."""


class BodyModelError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
