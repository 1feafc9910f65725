"""Consensus mode over the API: a member's own answers, their submission, every
member's answers (by ``consensus.individuals_visible``), the disagreement, and
the facilitator's settle action. Same rules as the pages."""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from assessment import consensus
from assessment.access import access_for, get_assessment_for_user
from assessment.answer_refs import QuestionNotFound, resolve_answer
from assessment.models import RespondentAnswer

from . import serializers as s
from .common import BAD_REQUEST_RESPONSE, NOT_FOUND_RESPONSE, valid_input

NOT_FACILITATOR_MSG = "Only the team's facilitator or a lead settles its answers."
NOT_CONSENSUS_API_MSG = consensus.NOT_CONSENSUS_MSG
HIDDEN_MSG = (
    "Submit your own answers first: the others' answers are shown once yours are in."
)
MEASURE = "range: highest minus lowest individual score (0-4), N/A left out"
FORBIDDEN = OpenApiResponse(description="Not allowed for you in this assessment.")
ASSESSMENT_PK = OpenApiParameter(
    "assessment_pk",
    OpenApiTypes.INT,
    OpenApiParameter.PATH,
    description="Assessment id.",
)


def _consensus_assessment(request, pk):
    assessment = get_assessment_for_user(request.user, pk)
    if not assessment.is_consensus:
        raise PermissionDenied(NOT_CONSENSUS_API_MSG)
    return assessment


def _resolve(assessment, data):
    try:
        return resolve_answer(
            question=data["question"],
            framework_id=assessment.cycle.framework_id,
            option_id=data.get("option_id"),
            option_score=data.get("option_score"),
        )
    except QuestionNotFound:
        raise Http404 from None


def _rows(assessment, answers, *, notes_for):
    """Serializer input for individual answers; ``notes_for(answer)`` says whether
    the caller may read its note for the facilitator."""
    members = set(
        consensus.Membership.objects.filter(team_id=assessment.team_id).values_list(
            "user_id", flat=True
        )
    )
    for answer in answers:
        answer.removed = answer.respondent_id not in members
        if not notes_for(answer):
            answer.private_note = None
    return answers


def _individuals_body(request, assessment) -> dict:
    """The individual answers the caller may read, serialised."""
    access = access_for(request.user)
    everyone = consensus.individuals_visible(
        access=access, assessment=assessment, user=request.user
    )
    facilitates = consensus.private_notes_visible(
        access=access, assessment=assessment, user=request.user
    )
    answers = RespondentAnswer.objects.filter(assessment=assessment)
    if not everyone:
        answers = answers.filter(respondent=request.user)
    answers = list(
        answers.select_related("question", "option", "respondent").order_by(
            "question__capability__order", "question__order", "respondent_id"
        )
    )
    rows = _rows(
        assessment,
        answers,
        notes_for=lambda a: facilitates or a.respondent_id == request.user.pk,
    )
    body = {
        "visible": "all" if everyone else "own",
        "submitted": consensus.has_submitted(assessment=assessment, user=request.user),
        "results": rows,
    }
    return s.IndividualAnswersSerializer(body).data


class IndividualAnswersView(APIView):
    """Individual answers of a consensus-mode assessment."""

    @extend_schema(
        parameters=[ASSESSMENT_PK],
        summary="Members' individual answers (consensus mode)",
        description="Every member's answers for the facilitator, leads and members "
        "who submitted their own; otherwise the caller's own answers only.",
        responses={
            200: s.IndividualAnswersSerializer,
            403: FORBIDDEN,
            404: NOT_FOUND_RESPONSE,
        },
    )
    def get(self, request, assessment_pk):
        assessment = _consensus_assessment(request, assessment_pk)
        return Response(_individuals_body(request, assessment))

    @extend_schema(
        parameters=[ASSESSMENT_PK],
        summary="Save your own answer to one question (consensus mode)",
        description="Send the `version` you last read (0 for a new answer); a stale "
        "one answers 409 with your current answer.",
        request=s.OwnAnswerUpsertSerializer,
        responses={
            200: s.IndividualAnswerSerializer,
            400: BAD_REQUEST_RESPONSE,
            403: FORBIDDEN,
            404: NOT_FOUND_RESPONSE,
            409: OpenApiResponse(description="Stale version: {detail, current}."),
        },
    )
    def put(self, request, assessment_pk):
        assessment = _consensus_assessment(request, assessment_pk)
        data = valid_input(s.OwnAnswerUpsertSerializer, request.data)
        question, option = _resolve(assessment, data)
        answer = consensus.own_answer_record(
            assessment=assessment,
            question=question,
            user=request.user,
            option=option,
            not_applicable=data.get("not_applicable", False),
            comment=data.get("comment"),
            private_note=data.get("private_note"),
            evidence_url=data.get("evidence_url"),
            expected_version=data["version"],
        )
        answer.question = question
        answer.removed = False
        return Response(s.IndividualAnswerSerializer(answer).data)


class OwnSubmitView(APIView):
    @extend_schema(
        parameters=[ASSESSMENT_PK],
        summary="Submit your own answers (consensus mode)",
        description="Every question answered (N/A where allowed); a 400 lists what "
        "is missing. Afterwards you see the other members' answers.",
        request=None,
        responses={
            200: s.IndividualAnswersSerializer,
            400: BAD_REQUEST_RESPONSE,
            403: FORBIDDEN,
            404: NOT_FOUND_RESPONSE,
        },
    )
    def post(self, request, assessment_pk):
        assessment = _consensus_assessment(request, assessment_pk)
        consensus.own_submit(assessment=assessment, user=request.user)
        return Response(_individuals_body(request, assessment))


class SettleView(APIView):
    @extend_schema(
        parameters=[ASSESSMENT_PK],
        summary="Settle the team's answer to one question (facilitator, leads)",
        description="A question no member answered is settled only with a note.",
        request=s.SettleSerializer,
        responses={
            200: s.AnswerSerializer,
            400: BAD_REQUEST_RESPONSE,
            403: FORBIDDEN,
            404: NOT_FOUND_RESPONSE,
        },
    )
    def post(self, request, assessment_pk):
        assessment = _consensus_assessment(request, assessment_pk)
        if not consensus.may_facilitate(
            access=access_for(request.user), assessment=assessment, user=request.user
        ):
            raise PermissionDenied(NOT_FACILITATOR_MSG)
        data = valid_input(s.SettleSerializer, request.data)
        question, option = _resolve(assessment, data)
        answer = consensus.answer_settle(
            assessment=assessment,
            question=question,
            user=request.user,
            option=option,
            not_applicable=data.get("not_applicable", False),
            note=data.get("note", ""),
        )
        answer.question = question
        return Response(s.AnswerSerializer(answer).data, status=status.HTTP_200_OK)


class DisagreementView(APIView):
    @extend_schema(
        parameters=[ASSESSMENT_PK],
        summary="How far the members disagree, per question and capability",
        description=f"Measure: {MEASURE}; per capability the mean of its questions' "
        "ranges. Same visibility as the individual answers.",
        responses={
            200: s.DisagreementSerializer,
            403: FORBIDDEN,
            404: NOT_FOUND_RESPONSE,
        },
    )
    def get(self, request, assessment_pk):
        assessment = _consensus_assessment(request, assessment_pk)
        if not consensus.individuals_visible(
            access=access_for(request.user), assessment=assessment, user=request.user
        ):
            raise PermissionDenied(HIDDEN_MSG)
        board, _people = consensus.facilitation_board(
            assessment=assessment, with_private_notes=False
        )
        ranges: dict[str, list] = {}
        questions = []
        for row in board:
            key = row.question.capability.key
            ranges.setdefault(key, []).append(row.spread)
            questions.append(
                {
                    "question": row.question.pk,
                    "question_key": row.question.key,
                    "capability": key,
                    "answers": row.answered_count,
                    "range": row.spread,
                    "default_score": row.default.score if row.default else None,
                    "settled_score": row.team_answer.option.score
                    if row.settled and row.team_answer.option_id
                    else None,
                    "settled": row.settled,
                }
            )
        body = {
            "measure": MEASURE,
            "questions": questions,
            "capabilities": [
                {
                    "capability": key,
                    "disagreement": consensus.disagreement.capability_disagreement(v),
                }
                for key, v in ranges.items()
            ],
        }
        return Response(s.DisagreementSerializer(body).data)
