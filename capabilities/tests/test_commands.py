import json
from io import StringIO

import pytest
import yaml
from django.core.management import CommandError, call_command

from capabilities.importer import framework_export
from capabilities.models import Framework, Question
from capabilities.tests.factories import make_document, make_framework

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_framework_imports_a_draft(tmp_path):
    path = tmp_path / "fw.yaml"
    path.write_text(yaml.safe_dump(make_document()))
    out, _err = run("import_framework", str(path))
    assert out == "Imported Document doc-fw v1 (draft).\n"
    assert Framework.objects.get().status == Framework.Status.DRAFT


def test_import_framework_can_publish_and_replace(tmp_path):
    path = tmp_path / "fw.json"
    path.write_text(json.dumps(make_document()))
    run("import_framework", str(path))
    path.write_text(json.dumps(make_document(capabilities=3)))
    out, _err = run("import_framework", str(path), "--replace", "--publish")
    assert out == "Imported Document doc-fw v1 (published).\n"
    assert Framework.objects.get().capabilities.count() == 3


def test_import_framework_prints_every_error_and_fails(tmp_path):
    doc = make_document()
    doc["capabilities"][0]["questions"][1]["lens"] = "foo"
    del doc["capabilities"][1]["questions"][0]["options"][4]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(doc))
    err = StringIO()
    with pytest.raises(CommandError, match=r"not imported \(2 error\(s\)\)"):
        call_command("import_framework", str(path), stdout=StringIO(), stderr=err)
    assert err.getvalue() == (
        f"{path}: capabilities[0].questions[1].lens: unknown lens 'foo'\n"
        f"{path}: capabilities[1].questions[0].options: no option with score 4\n"
    )
    assert not Framework.objects.exists()


def test_import_framework_refuses_a_file_over_the_limit(tmp_path, settings):
    settings.FRAMEWORK_FILE_MAX_BYTES = 10
    path = tmp_path / "big.yaml"
    path.write_bytes(b"x" * 11)
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_framework", str(path), stdout=StringIO(), stderr=err)
    assert (
        err.getvalue() == f"{path}: file: the file is 11 bytes; the limit is 10 bytes\n"
    )


def test_import_framework_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run("import_framework", str(tmp_path / "nope.yaml"))


@pytest.mark.parametrize(
    ("fmt", "load"), [("yaml", yaml.safe_load), ("json", json.loads)]
)
def test_export_framework_writes_a_file(tmp_path, framework, fmt, load):
    path = tmp_path / f"out.{fmt}"
    run("export_framework", framework.slug, "1", "-o", str(path), "--format", fmt)
    assert load(path.read_text()) == framework_export(framework=framework)


def test_export_framework_writes_to_stdout(framework):
    out, _err = run("export_framework", framework.slug, "1")
    assert yaml.safe_load(out) == framework_export(framework=framework)


def test_export_framework_refuses_an_unknown_version(framework):
    with pytest.raises(CommandError, match="No framework test-fw v7."):
        run("export_framework", "test-fw", "7")


def test_exported_file_imports_as_a_new_version(tmp_path):
    draft = make_framework(slug="draft")
    path = tmp_path / "draft.yaml"
    run("export_framework", "draft", "1", "-o", str(path))
    path.write_text(path.read_text().replace("version: 1\n", "version: 2\n", 1))
    run("import_framework", str(path))
    copy = Framework.objects.get(slug="draft", version=2)
    first, second = framework_export(framework=draft), framework_export(framework=copy)
    first.pop("version"), second.pop("version")
    assert first == second


def test_load_shipped_content_is_idempotent():
    out, _err = run("load_shipped_content")
    assert out == (
        "Imported and published Manage the FinOps practice v1.\n"
        "Imported and published Manage the FinOps practice v2.\n"
    )
    out, _err = run("load_shipped_content")
    assert out == (
        "Manage the FinOps practice v1 is already present; nothing to do.\n"
        "Manage the FinOps practice v2 is already present; nothing to do.\n"
    )
    framework = Framework.objects.get(version=1)
    assert framework.status == Framework.Status.PUBLISHED
    assert framework.is_superseded
    assert framework.capabilities.count() == 8
    assert framework.lenses.count() == 5
    assert Question.objects.filter(capability__framework=framework).count() == 52
    assert not Framework.objects.get(version=2).is_superseded
