"""The curl examples of README.md's API section work against a running server."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from assessment.models import Assessment
from tests.api_support import *  # noqa: F403
from tests.api_support import token_for

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_api_commands() -> list[str]:
    section = README.read_text().split("\n## API\n", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.startswith("curl ")]


def test_the_readme_has_the_four_api_examples():
    assert len(readme_api_commands()) == 4


@pytest.mark.django_db(transaction=True)
def test_the_readme_curl_examples_succeed(
    live_server, org, framework, team_a, respondent_a
):
    from assessment.tests.factories import make_cycle

    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    cycle = make_cycle(organization=org, framework=framework, teams=[team_a])
    assessment = Assessment.objects.get(cycle=cycle)
    Assessment.objects.filter(pk=assessment.pk).update(status="in_progress")
    env = {
        **os.environ,
        "BASE": live_server.url,
        "TOKEN": token_for(respondent_a),
        "USERNAME": "alice",
        "PASSWORD": "pw-alice",
        "ASSESSMENT": str(assessment.pk),
        "CYCLE": str(cycle.pk),
    }
    for command in readme_api_commands():
        result = subprocess.run(
            ["bash", "-c", command + ' -o /dev/null -w "%{http_code}"'],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode == 0, (command, result.stderr)
        assert result.stdout.startswith("2"), (command, result.stdout)
    assert assessment.answers.get().option.score == 3
