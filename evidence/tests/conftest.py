"""Evidence tests keep their files under a temporary EVIDENCE_ROOT and share
generated FOCUS data (focus-data-toolkit) across a session."""

import io

import pytest

from evidence.tests import focusdata


@pytest.fixture(autouse=True)
def evidence_root(settings, tmp_path):
    settings.EVIDENCE_ROOT = tmp_path / "evidence-root"
    return settings.EVIDENCE_ROOT


@pytest.fixture(scope="session")
def generated(tmp_path_factory):
    """A function (provider, version, rows=1500) -> path of a generated CSV."""
    base = tmp_path_factory.mktemp("generated-focus")

    def make(provider="aws", version="1.3", rows=1500, seed=7):
        return focusdata.generate(
            base, provider=provider, version=version, rows=rows, seed=seed
        )

    return make


def send_upload(*, organization, user, data: bytes, name="export.csv", chunk=None):
    """An upload sent in chunks through the service, as the browser does."""
    from evidence import uploads

    upload = uploads.upload_start(
        organization=organization, user=user, name=name, size=len(data)
    )
    chunk = chunk or max(1, len(data))
    offset = 0
    while offset < len(data):
        piece = data[offset : offset + chunk]
        upload = uploads.upload_append(
            upload=upload, offset=offset, stream=io.BytesIO(piece), length=len(piece)
        )
        offset += len(piece)
    return upload


@pytest.fixture
def ingest(django_capture_on_commit_callbacks, lead, eager_tasks):
    """ingest(org, {name: bytes}) -> the ingestion, read in-process after commit
    (the embedded default's path: tasks run in the process)."""
    from evidence import services
    from evidence.models import Ingestion

    def run(organization, files: dict, user=None):
        uploads = [
            send_upload(
                organization=organization, user=user or lead, data=data, name=name
            )
            for name, data in files.items()
        ]
        with django_capture_on_commit_callbacks(execute=True):
            ingestion = services.ingestion_start(
                organization=organization, user=user or lead, uploads=uploads
            )
        return Ingestion.objects.get(pk=ingestion.pk)

    return run
