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


def make_document(*, slug="doc-fw", version=1, capabilities=2) -> dict:
    """A valid framework file document (no database): every capability has one
    question per lens with options 0..4, and a recommendation for the first band."""
    return {
        "slug": slug,
        "version": version,
        "title": f"Document {slug}",
        "description": "A framework for tests.",
        "source_url": "https://example.com/framework",
        "lenses": [
            {
                "key": key,
                "name": key.title(),
                "description": f"The {key} lens.",
                "weight": 20,
                "levels": [f"{key} level {s}" for s in range(5)],
            }
            for key in LENS_KEYS
        ],
        "maturity_levels": [
            {
                "key": key,
                "name": name,
                "min_percent": pct,
                "colour": "#336699",
                "description": f"{name} band.",
            }
            for key, name, pct in LEVELS
        ],
        "domains": [{"key": "manage", "name": "Manage", "description": ""}],
        "capabilities": [
            {
                "key": f"cap-{c}",
                "domain": "manage",
                "name": f"Capability {c}",
                "summary": "Summary.",
                "description": "Description.",
                "docs_url": "https://learn.microsoft.com/example",
                "foundation_url": "https://www.finops.org/example",
                "questions": [
                    {
                        "key": f"cap-{c}-{lens}",
                        "lens": lens,
                        "prompt": f"How is {lens} for capability {c}?",
                        "help": "Some help.",
                        "weight": 1,
                        "allow_na": False,
                        "options": [
                            {"score": s, "label": f"Level {s}", "description": ""}
                            for s in range(5)
                        ],
                    }
                    for lens in LENS_KEYS
                ],
                "recommendations": [
                    {
                        "level": "not_started",
                        "lens": None,
                        "title": f"Start capability {c}",
                        "body": "Begin.",
                        "effort": "low",
                        "impact": "high",
                        "links": [{"title": "Docs", "url": "https://example.com/d"}],
                    }
                ],
            }
            for c in range(capabilities)
        ],
    }
