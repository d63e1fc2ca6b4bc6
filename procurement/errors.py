"""Why a command was refused. Each kind maps to one HTTP status at the edge."""


class Rejected(Exception):
    """A command that the rules refuse; nothing was recorded."""

    status = 422
    code = "rule_violated"

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code


class NotAllowed(Rejected):
    status = 403
    code = "not_allowed"


class NotFound(Rejected):
    status = 404
    code = "not_found"


class WrongState(Rejected):
    status = 409
    code = "wrong_state"
