"""Domain errors of answering and submitting; ``finops_portal.api`` maps them to HTTP
(the pages handle them in their views)."""

from django.core.exceptions import ValidationError

from finops_portal.errors import DomainError

ANSWER_CONFLICT_MSG = (
    "Someone else changed this answer since you loaded it. "
    "Review their answer, then keep it or save yours again."
)
INCOMPLETE_ASSESSMENT_MSG = (
    "{count} question(s) are not answered yet. Answer them, or mark them N/A where "
    "allowed, before submitting."
)


class AssessmentError(DomainError):
    """Base of the errors this app raises besides Django's ``ValidationError``."""

    default_message = "The assessment cannot be changed."


class AnswerConflict(AssessmentError):
    """The stored answer changed since the client read it; ``current`` is the stored
    one (the API renders it with its answer serializer)."""

    http_status = 409
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

    def body(self) -> dict:
        return {
            "detail": self.message,
            "missing": [
                {
                    "capability": group["capability"].key,
                    "questions": [question.key for question in group["questions"]],
                }
                for group in self.missing
            ],
        }


class ConsensusTeamAnswer(ValidationError):  # noqa: N818 - a ValidationError
    """A write of the team's answer to a consensus-mode assessment: members record
    their own answers (``consensus.own_answer_record``) and the facilitator settles.
    A ``ValidationError`` on ``assessment``, so the API answers 400."""

    def __init__(self, message: str):
        super().__init__({"assessment": [message]})
