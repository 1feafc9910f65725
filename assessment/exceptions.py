"""Domain errors of answering and submitting; views and the API map them to HTTP."""

ANSWER_CONFLICT_MSG = (
    "Someone else changed this answer since you loaded it. "
    "Review their answer, then keep it or save yours again."
)
INCOMPLETE_ASSESSMENT_MSG = (
    "{count} question(s) are not answered yet. Answer them, or mark them N/A where "
    "allowed, before submitting."
)


class AssessmentError(Exception):
    """Base of the errors this app raises besides Django's ``ValidationError``."""

    default_message = "The assessment cannot be changed."

    def __init__(self, message: str | None = None):
        self.message = message or self.default_message
        super().__init__(self.message)


class AnswerConflict(AssessmentError):
    """The stored answer changed since the client read it; ``current`` is the stored one."""

    default_message = ANSWER_CONFLICT_MSG

    def __init__(self, *, current):
        self.current = current
        super().__init__()


class IncompleteAssessment(AssessmentError):
    """Some questions in scope are unanswered.

    ``missing`` is a list of ``{"capability": Capability, "questions": [Question]}``
    in questionnaire order.
    """

    def __init__(self, *, missing: list[dict]):
        self.missing = missing
        self.count = sum(len(group["questions"]) for group in missing)
        super().__init__(INCOMPLETE_ASSESSMENT_MSG.format(count=self.count))
