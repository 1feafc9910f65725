"""Why a score moved: a team's capability score in two cycles, and the change
between them split into its causes. Pure: no Django, exact arithmetic.

The score follows ``assessment.scoring``: a lens score is the question-weighted
mean of its scored questions (0-4), the capability percent is
sum(w_lens * lens_score) / sum(w_lens over scored lenses) * 25.

The change is walked from the earlier state to the later one, one step at a
time, and each step's effect on the percent is its cause:

1. questions of the earlier cycle that the later one no longer asks (an edition
   removed them), one by one;
2. questions asked in both whose lens or weight changed (edition), one by one;
3. answers that changed (option, or N/A), one by one, in question order;
4. questions only the later cycle asks (an edition added them), one by one;
5. the lens weights, from the earlier cycle's to the later one's.

Every step is scored with the same function in ``Fraction`` arithmetic, so the
steps' effects telescope: they sum exactly to the observed change. A step's
effect depends on the order of the walk (an answer weighs more in a lens with
fewer questions); the order above is fixed, so the split is reproducible. An
intermediate state with nothing scored counts as 0. A target change moves the
gap, not the score: it is reported beside the causes, never among them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction

Number = int | float | Decimal | Fraction

ANSWER = "answer"
QUESTION_REMOVED = "question_removed"
QUESTION_CHANGED = "question_changed"
QUESTION_ADDED = "question_added"
WEIGHTS = "weights"


def exact(value: Number) -> Fraction:
    """A number as an exact fraction (a float by its decimal spelling, so 0.1 is 1/10)."""
    if isinstance(value, float):
        return Fraction(repr(value))
    return Fraction(value)


@dataclass(frozen=True)
class QuestionState:
    """One question as a cycle asked it and the team answered it. ``key`` is the
    question's identity across framework versions; ``score`` is None for N/A or
    unanswered (left out of the score)."""

    key: str
    lens: str
    weight: Fraction
    score: int | None = None
    prompt: str = ""
    label: str = ""
    answered_by: str = ""


@dataclass(frozen=True)
class CapabilityState:
    """A capability in one cycle: its questions by key, the lens weights, the target."""

    questions: Mapping[str, QuestionState]
    lens_weights: Mapping[str, Fraction]
    target: Fraction | None = None


@dataclass(frozen=True)
class Cause:
    """One step of the walk and its effect on the percent (``delta``, exact)."""

    kind: str
    delta: Fraction
    question_key: str = ""
    prompt: str = ""
    lens: str = ""
    from_score: int | None = None
    to_score: int | None = None
    from_label: str = ""
    to_label: str = ""
    by: str = ""
    detail: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "delta": round(float(self.delta), 2),
            "question_key": self.question_key,
            "prompt": self.prompt,
            "lens": self.lens,
            "from_score": self.from_score,
            "to_score": self.to_score,
            "from_label": self.from_label,
            "to_label": self.to_label,
            "by": self.by,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Movement:
    """The two percents (None when nothing was scored), their change, its causes
    (summing exactly to ``change`` whenever both percents exist) and the target's
    change (None unless both cycles had a target)."""

    before: Fraction | None
    after: Fraction | None
    causes: tuple[Cause, ...]
    target_before: Fraction | None = None
    target_after: Fraction | None = None
    weights_changed: bool = False

    @property
    def comparable(self) -> bool:
        return self.before is not None and self.after is not None

    @property
    def change(self) -> Fraction | None:
        if self.before is None or self.after is None:
            return None
        return self.after - self.before

    @property
    def target_change(self) -> Fraction | None:
        if self.target_before is None or self.target_after is None:
            return None
        return self.target_after - self.target_before

    def main_causes(self, limit: int = 3) -> list[Cause]:
        """The causes with an effect, largest first (ties in walk order)."""
        moving = [c for c in self.causes if c.delta != 0]
        return sorted(moving, key=lambda c: -abs(c.delta))[:limit]


def percent(
    questions: Mapping[str, QuestionState], lens_weights: Mapping[str, Fraction]
) -> Fraction | None:
    """The capability percent (0-100) of ``questions`` under ``lens_weights``;
    None when no lens with a weight has a score."""
    sums: dict[str, list[Fraction]] = {}
    for question in questions.values():
        if question.score is None:
            continue
        pair = sums.setdefault(question.lens, [Fraction(0), Fraction(0)])
        pair[0] += question.weight * question.score
        pair[1] += question.weight
    weighted = Fraction(0)
    weight_sum = Fraction(0)
    for lens, (scored, weight) in sums.items():
        if weight == 0 or lens not in lens_weights:
            continue
        weighted += lens_weights[lens] * scored / weight
        weight_sum += lens_weights[lens]
    if weight_sum == 0:
        return None
    return weighted / weight_sum * 25


def explain(before: CapabilityState, after: CapabilityState) -> Movement:
    """Split the change from ``before`` to ``after`` into its causes (see the
    module docstring for the walk)."""
    current = dict(before.questions)
    weights = dict(before.lens_weights)
    causes: list[Cause] = []

    def value() -> Fraction:
        found = percent(current, weights)
        return Fraction(0) if found is None else found

    level = value()

    def step(cause_kind: str, **fields) -> None:
        nonlocal level
        new_level = value()
        causes.append(Cause(kind=cause_kind, delta=new_level - level, **fields))
        level = new_level

    for key in sorted(set(before.questions) - set(after.questions)):
        old = current.pop(key)
        step(
            QUESTION_REMOVED,
            question_key=key,
            prompt=old.prompt,
            lens=old.lens,
            from_score=old.score,
            from_label=old.label,
        )
    kept = sorted(set(before.questions) & set(after.questions))
    for key in kept:
        old, new = current[key], after.questions[key]
        if (old.lens, old.weight) != (new.lens, new.weight):
            current[key] = replace(old, lens=new.lens, weight=new.weight)
            step(
                QUESTION_CHANGED,
                question_key=key,
                prompt=new.prompt,
                lens=new.lens,
                detail={
                    "from_lens": old.lens,
                    "to_lens": new.lens,
                    "from_weight": str(old.weight),
                    "to_weight": str(new.weight),
                },
            )
    for key in kept:
        old, new = current[key], after.questions[key]
        if old.score != new.score:
            current[key] = new
            step(
                ANSWER,
                question_key=key,
                prompt=new.prompt,
                lens=new.lens,
                from_score=old.score,
                to_score=new.score,
                from_label=old.label,
                to_label=new.label,
                by=new.answered_by,
            )
        else:
            current[key] = new
    for key in sorted(set(after.questions) - set(before.questions)):
        new = after.questions[key]
        current[key] = new
        step(
            QUESTION_ADDED,
            question_key=key,
            prompt=new.prompt,
            lens=new.lens,
            to_score=new.score,
            to_label=new.label,
            by=new.answered_by,
        )
    weights_changed = dict(before.lens_weights) != dict(after.lens_weights)
    if weights_changed:
        weights = dict(after.lens_weights)
        step(
            WEIGHTS,
            detail={
                "from": {k: str(v) for k, v in sorted(before.lens_weights.items())},
                "to": {k: str(v) for k, v in sorted(after.lens_weights.items())},
            },
        )
    return Movement(
        before=percent(before.questions, before.lens_weights),
        after=percent(after.questions, after.lens_weights),
        causes=tuple(causes),
        target_before=before.target,
        target_after=after.target,
        weights_changed=weights_changed,
    )


def _score_text(score: int | None) -> str:
    return "N/A" if score is None else str(score)


def describe_cause(cause: Cause, lens_names: Mapping[str, str] | None = None) -> str:
    """One cause in words: "Process 1 -> 3 on <prompt>"."""
    lens = (lens_names or {}).get(cause.lens, cause.lens.capitalize())
    if cause.kind == ANSWER:
        return (
            f"{lens} {_score_text(cause.from_score)} -> "
            f"{_score_text(cause.to_score)} on {cause.prompt}"
        )
    if cause.kind == QUESTION_ADDED:
        return f"new question ({lens}) answered {_score_text(cause.to_score)}: {cause.prompt}"
    if cause.kind == QUESTION_REMOVED:
        return f"question no longer asked ({lens}): {cause.prompt}"
    if cause.kind == QUESTION_CHANGED:
        return f"question reweighted or moved to {lens}: {cause.prompt}"
    return "lens weights changed"


def summary(movement: Movement, lens_names: Mapping[str, str] | None = None) -> str:
    """The movement in one line: "+12: Process 1 -> 3 on ..., weights unchanged"."""
    change = movement.change
    if change is None:
        return "No earlier score to compare with."
    head = f"{float(change):+.0f}"
    parts = [
        describe_cause(c, lens_names)
        for c in movement.main_causes(2)
        if c.kind != WEIGHTS
    ]
    if not movement.causes or all(c.delta == 0 for c in movement.causes):
        parts = parts if parts else ["no answer changed"]
    weights = next((c for c in movement.causes if c.kind == WEIGHTS), None)
    if weights is None:
        parts.append("weights unchanged")
    else:
        parts.append(f"weights changed ({float(weights.delta):+.1f})")
    target = movement.target_change
    if target:
        parts.append(f"target {float(target):+.0f}")
    return f"{head}: " + ", ".join(parts)
