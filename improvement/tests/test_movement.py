"""Why a score moved: the causes sum exactly to the observed change, on random
pairs of cycles (answers, editions that add, drop or reweigh questions, lens
weights), and the percent agrees with ``assessment.scoring``."""

from fractions import Fraction

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from assessment import scoring
from improvement import movement
from improvement.movement import CapabilityState, QuestionState

LENSES = ["knowledge", "process", "metrics", "adoption", "automation"]

scores = st.one_of(st.none(), st.integers(min_value=0, max_value=4))
weights = st.sampled_from([Fraction(1), Fraction(2), Fraction(1, 2), Fraction(3)])
lens_weights = st.one_of(
    st.just({k: Fraction(20) for k in LENSES}),
    st.fixed_dictionaries(
        {
            k: st.sampled_from([Fraction(0), Fraction(5), Fraction(20), Fraction(30)])
            for k in LENSES
        }
    ),
)


@st.composite
def question_sets(draw):
    keys = draw(st.sets(st.sampled_from([f"q{i}" for i in range(10)]), max_size=10))
    return {
        key: QuestionState(
            key=key,
            lens=draw(st.sampled_from(LENSES)),
            weight=draw(weights),
            score=draw(scores),
            prompt=f"Prompt {key}",
        )
        for key in sorted(keys)
    }


@st.composite
def pairs(draw):
    """An earlier state, and a later one derived from it: answers change, an
    edition adds, drops or reweighs questions, the lens weights may change."""
    before_q = draw(question_sets())
    after_q = {}
    for key, q in before_q.items():
        if draw(st.booleans()) and draw(st.booleans()):
            continue  # removed by an edition
        changed = q
        if draw(st.booleans()):
            changed = QuestionState(
                key=key,
                lens=draw(st.sampled_from(LENSES)),
                weight=draw(weights),
                score=q.score,
                prompt=q.prompt,
            )
        new_score = draw(scores) if draw(st.booleans()) else q.score
        after_q[key] = QuestionState(
            key=key,
            lens=changed.lens,
            weight=changed.weight,
            score=new_score,
            prompt=q.prompt,
        )
    for key, q in draw(question_sets()).items():
        after_q.setdefault(
            "new-" + key, QuestionState(**{**q.__dict__, "key": "new-" + key})
        )
    before_w = draw(lens_weights)
    after_w = draw(lens_weights) if draw(st.booleans()) else before_w
    return CapabilityState(before_q, before_w), CapabilityState(after_q, after_w)


@settings(max_examples=150, deadline=None)
@given(pairs())
def test_the_causes_sum_exactly_to_the_observed_change(pair):
    before, after = pair
    moved = movement.explain(before, after)
    if moved.comparable:
        assert sum((c.delta for c in moved.causes), Fraction(0)) == moved.change
    # whatever the endpoints, the walk ends at the later state's percent
    start = moved.before or Fraction(0)
    end = moved.after or Fraction(0)
    assert start + sum((c.delta for c in moved.causes), Fraction(0)) == end


def _scoring_percent(state: CapabilityState) -> float:
    rows = [
        {
            scoring.ASSESSMENT: 1,
            scoring.CAPABILITY: 1,
            scoring.LENS: q.lens,
            scoring.QUESTION: n,
            scoring.WEIGHT: float(q.weight),
            scoring.SCORE: float("nan") if q.score is None else float(q.score),
            scoring.NA: False,
        }
        for n, q in enumerate(state.questions.values())
    ]
    frame = pd.DataFrame(rows, columns=scoring.ANSWER_COLUMNS)
    if frame.empty:
        return float("nan")
    result = scoring.capability_scores(
        frame, {k: float(v) for k, v in state.lens_weights.items()}, [("crawl", 0)]
    )
    return float(result[scoring.PERCENT].iloc[0])


@settings(max_examples=80, deadline=None)
@given(pairs())
def test_the_percent_is_the_scoring_modules(pair):
    for state in pair:
        ours = movement.percent(state.questions, state.lens_weights)
        theirs = _scoring_percent(state)
        if ours is None:
            assert pd.isna(theirs)
        else:
            assert abs(float(ours) - theirs) < 1e-6


def _q(key, lens, score, weight=1, prompt=None):
    return QuestionState(
        key=key, lens=lens, weight=Fraction(weight), score=score, prompt=prompt or key
    )


EQUAL = {k: Fraction(20) for k in LENSES}


def test_one_answer_change_is_the_whole_movement():
    before = CapabilityState(
        {"a": _q("a", "process", 1), "b": _q("b", "knowledge", 2)}, EQUAL
    )
    after = CapabilityState(
        {
            "a": _q("a", "process", 3, prompt="Chargeback runs monthly"),
            "b": _q("b", "knowledge", 2),
        },
        EQUAL,
    )
    moved = movement.explain(before, after)
    assert moved.change == Fraction(25)  # (1+2)/2*25=37.5 -> (3+2)/2*25=62.5
    [cause] = moved.causes
    assert (cause.kind, cause.from_score, cause.to_score) == ("answer", 1, 3)
    assert movement.summary(moved, {"process": "Process"}) == (
        "+25: Process 1 -> 3 on Chargeback runs monthly, weights unchanged"
    )


def test_an_edition_change_and_a_weight_change_are_told_apart():
    before = CapabilityState(
        {"a": _q("a", "process", 4), "old": _q("old", "knowledge", 0)},
        {"process": Fraction(50), "knowledge": Fraction(50)},
    )
    after = CapabilityState(
        {"a": _q("a", "process", 4), "new": _q("new", "knowledge", 2)},
        {"process": Fraction(80), "knowledge": Fraction(20)},
    )
    moved = movement.explain(before, after)
    kinds = [c.kind for c in moved.causes]
    assert kinds == ["question_removed", "question_added", "weights"]
    assert sum(c.delta for c in moved.causes) == moved.change
    # no answer changed: nothing is put down to the team
    assert not [c for c in moved.causes if c.kind == "answer"]
    assert "weights changed" in movement.summary(moved)


def test_a_target_change_moves_the_gap_not_the_score():
    state = {"a": _q("a", "process", 2)}
    moved = movement.explain(
        CapabilityState(state, EQUAL, target=Fraction(60)),
        CapabilityState(state, EQUAL, target=Fraction(75)),
    )
    assert moved.change == 0
    assert moved.causes == ()
    assert moved.target_change == Fraction(15)
    assert movement.summary(moved).endswith("weights unchanged, target +15")
