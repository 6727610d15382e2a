"""deploy/ (docs/scaling.md) stays in step with the code it runs: every command its container, compose
file and systemd units start is one the CLI takes, every FRONTDESK_ variable they set is a setting,
what listens in a container listens on every address, and systemd's own parser accepts the units.
(This machine has no container runtime and no systemd as PID 1: what those would do with the files
is not run here.)"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from frontdesk.cli import app
from frontdesk.settings import Settings

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
DOCKERFILE = (DEPLOY / "Dockerfile").read_text()
COMPOSE = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))


def commands() -> dict[str, list[str]]:
    """Each command the deploy files start, by where it is written, without the program's path."""
    found = {"Dockerfile CMD": json.loads(re.findall(r"^CMD (\[.*\])$", DOCKERFILE, re.MULTILINE)[-1])}
    for name, service in COMPOSE["services"].items():
        if "command" in service:
            found[f"compose {name}"] = list(service["command"])
    for unit in UNITS:
        [line] = [line for line in unit.read_text().splitlines() if line.startswith("ExecStart=")]
        found[unit.name] = shlex.split(line.removeprefix("ExecStart="))
    return {where: [Path(argv[0]).name, *argv[1:]] for where, argv in found.items()}


def test_every_command_started_is_one_the_cli_takes() -> None:
    found = commands()
    assert set(found) >= {"Dockerfile CMD", "compose server", "compose worker"} and len(UNITS) == 2
    for where, argv in found.items():
        assert argv[0] == "frontdesk", where
        result = CliRunner().invoke(app, [*argv[1:], "--help"])  # options are parsed before --help answers
        assert result.exit_code == 0, f"{where}: {argv}: {result.output}"


def test_every_variable_set_is_a_setting_and_the_container_listens_on_every_address() -> None:
    known = {f"FRONTDESK_{name.upper()}" for name in Settings.model_fields} | {"PORT"}
    written = "\n".join([DOCKERFILE, (DEPLOY / "frontdesk.env.example").read_text(), *map(Path.read_text, UNITS)])
    named = set(re.findall(r"\b(FRONTDESK_[A-Z_]+)\b", written))
    assert "FRONTDESK_DATABASE_URL" in named
    assert named <= known, named - known

    env = dict(re.findall(r"(FRONTDESK_[A-Z_]+|PORT)=(\S+)", DOCKERFILE))
    assert env["FRONTDESK_HOST"] == "0.0.0.0"  # HTTP
    assert env["FRONTDESK_SMTP_HOST"] == "0.0.0.0"  # the e-mail receiver, when FRONTDESK_SMTP_PORT is set


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed (Debian: systemd)"
)
def test_systemd_reads_every_unit_without_a_complaint(tmp_path: Path) -> None:
    """systemd's own parser (`systemd-analyze verify`, which needs no running systemd) finds no unknown
    key, bad value or missing program in the units, the program being this checkout's `frontdesk`
    in place of /opt/frontdesk's. It only warns on stderr, so stderr must be empty."""
    program = Path(sys.executable).with_name("frontdesk")
    copies = []
    for unit in UNITS:
        copy = tmp_path / unit.name.replace("@.", "@1.")  # a template is verified as an instance
        copy.write_text(unit.read_text().replace("/opt/frontdesk/bin/frontdesk", str(program)))
        copies.append(str(copy))

    verified = subprocess.run(["systemd-analyze", "verify", *copies], capture_output=True, text=True, timeout=60)

    assert (verified.returncode, verified.stderr) == (0, "")
