"""Build small frameworks for tests, without the shipped content file."""

from django.utils import timezone

from capabilities.models import (
    AnswerOption,
    Capability,
    Domain,
    Framework,
    Lens,
    MaturityLevel,
    Question,
    Recommendation,
)

LENS_KEYS = ["knowledge", "process", "metrics", "adoption", "automation"]
LEVELS = [
    ("not_started", "Not started", 0),
    ("crawl", "Crawl", 25),
    ("walk", "Walk", 50),
    ("run", "Run", 75),
]


def make_framework(
    *, slug="test-fw", version=1, capabilities=2, questions_per_lens=1, publish=False
) -> Framework:
    """A complete framework: every capability has ``questions_per_lens`` questions in
    each of the five lenses, each with options scored 0..4, and a recommendation per band."""
    fw = Framework.objects.create(slug=slug, version=version, title=f"Test {slug}")
    lenses = [
        Lens.objects.create(
            framework=fw,
            key=key,
            name=key.title(),
            order=i,
            weight=20,
            **{f"level_{s}": f"{key} level {s}" for s in range(5)},
        )
        for i, key in enumerate(LENS_KEYS)
    ]
    levels = [
        MaturityLevel.objects.create(framework=fw, key=key, name=name, min_percent=pct)
        for key, name, pct in LEVELS
    ]
    domain = Domain.objects.create(
        framework=fw, key="manage", name="Manage the practice"
    )
    for c in range(capabilities):
        cap = Capability.objects.create(
            framework=fw,
            domain=domain,
            key=f"cap-{c}",
            name=f"Capability {c}",
            order=c,
            docs_url="https://learn.microsoft.com/example",
        )
        order = 0
        for lens in lenses:
            for n in range(questions_per_lens):
                q = Question.objects.create(
                    capability=cap,
                    lens=lens,
                    key=f"cap-{c}-{lens.key}-{n}",
                    prompt=f"How is {lens.key} {n} for capability {c}?",
                    order=order,
                )
                order += 1
                AnswerOption.objects.bulk_create(
                    AnswerOption(question=q, score=s, label=f"Level {s}", order=s)
                    for s in range(5)
                )
        for level in levels[:3]:
            Recommendation.objects.create(
                capability=cap,
                level=level,
                title=f"Improve {cap.key} from {level.key}",
                body="Do the next thing.",
                links=[{"title": "Docs", "url": "https://learn.microsoft.com/example"}],
            )
    if publish:
        Framework.objects.filter(pk=fw.pk).update(
            status=Framework.Status.PUBLISHED, published_at=timezone.now()
        )
        fw.refresh_from_db()
    return fw
