"""What a team does with a measured suggestion: accept it, or answer otherwise
and say why (kept)."""

from django.core.exceptions import ValidationError
from django.db import transaction

from assessment.models import Assessment
from capabilities.models import Question

from .models import SuggestionDecision

DECISION_MSG = "Choose accept or answer otherwise."
REASON_REQUIRED_MSG = "Say why the team's answer differs from its cost data."
REASON_MAX = 2000
REASON_TOO_LONG_MSG = f"Keep the reason under {REASON_MAX} characters."
NO_SUGGESTION_MSG = "There is no measured suggestion for this question."
DECISION_READ_ONLY_MSG = "This assessment cannot be changed any more."
ACCEPT_MISMATCH_MSG = (
    "Save the suggested answer (score {score}) first; the saved answer is {answer}."
)


@transaction.atomic
def suggestion_decide(
    *,
    assessment: Assessment,
    question: Question,
    user,
    decision: str,
    reason: str = "",
    suggestion,
) -> SuggestionDecision:
    """Record that the team accepted the measured suggestion (its saved answer
    must be the suggested score) or answered otherwise, saying why."""
    if suggestion is None:
        raise ValidationError({"question": [NO_SUGGESTION_MSG]})
    if assessment.is_submitted or not assessment.cycle.is_open:
        raise ValidationError({"assessment": [DECISION_READ_ONLY_MSG]})
    if decision not in SuggestionDecision.Decision.values:
        raise ValidationError({"decision": [DECISION_MSG]})
    reason = (reason or "").strip().replace("\r\n", "\n")
    answer = (
        assessment.answers.select_related("option").filter(question=question).first()
    )
    answer_score = (
        answer.option.score
        if answer is not None and answer.option is not None
        else None
    )
    if decision == SuggestionDecision.Decision.ACCEPTED:
        if answer_score != suggestion.score:
            shown = "not given" if answer_score is None else f"score {answer_score}"
            raise ValidationError(
                {
                    "decision": [
                        ACCEPT_MISMATCH_MSG.format(score=suggestion.score, answer=shown)
                    ]
                }
            )
        reason = ""
    else:
        if not reason:
            raise ValidationError({"reason": [REASON_REQUIRED_MSG]})
        if len(reason) > REASON_MAX:
            raise ValidationError({"reason": [REASON_TOO_LONG_MSG]})
    record, _created = SuggestionDecision.objects.update_or_create(
        assessment=assessment,
        question=question,
        defaults={
            "measure": suggestion.measure,
            "period_start": suggestion.period_start,
            "value": suggestion.value,
            "suggested_score": suggestion.score,
            "decision": decision,
            "answer_score": answer_score,
            "reason": reason,
            "decided_by": user,
        },
    )
    return record
