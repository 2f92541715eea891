"""The image's install step, run for real: deploy/install.sh (the script the Dockerfile
runs) installs the bot into a fresh virtual environment outside the repository; that
environment's python, started outside the repository, migrates an empty PostgreSQL database
of its own and serves /readyz. These machines have no container engine, so this is how the
image's steps are proved. Also: the Dockerfile and compose.yaml call that very script and
those commands.

Slow-ish (pip installs every dependency, from the local wheel cache or PyPI): about 20 s to
a few minutes.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from storage import SqlStorage, open_storage
from storage.schema import MIGRATIONS, alembic_config
from tests.support.databases import own_database

if TYPE_CHECKING:
    from tests.support.databases import Database

REPO = Path(__file__).resolve().parents[2]
INSTALL = REPO / "deploy" / "install.sh"
INSTALL_TIMEOUT = 900
READY_TIMEOUT = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without anything that would point python at the source tree or at
    another database."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTHONPATH", "VIRTUAL_ENV", "DATABASE_URL", "PYTHONHOME"}
    }
    return {**env, **extra}


def head_revisions() -> set[str]:
    """The migrations' heads, read from the source tree (one, once every branch is merged)."""
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """deploy/install.sh run once, into a virtual environment outside the repository."""
    outside = tmp_path_factory.mktemp("install")
    target = outside / "venv"
    done = subprocess.run(
        ["bash", str(INSTALL), str(target)],
        cwd=outside,
        env=clean_env(PYTHON=sys.executable),
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, f"install.sh failed:\n{done.stdout}\n{done.stderr}"
    assert "has its migrations, risk matrix and manifest files" in done.stdout
    return target


async def alembic_versions(database: Database) -> set[str]:
    storage = open_storage(database.url)
    try:
        assert isinstance(storage, SqlStorage)
        async with storage.engine.connect() as connection:
            rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return {str(version) for (version,) in rows}
    finally:
        await storage.close()


def test_the_package_is_installed_not_linked_to_the_source(venv: Path, tmp_path: Path) -> None:
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import bot, storage; print(bot.__file__)"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where).resolve().is_relative_to(venv.resolve()), where
    dev = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import pytest"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        check=False,
    )
    assert dev.returncode != 0, "the development extras were installed"


async def run_bot_async(venv: Path, cwd: Path, *args: str, **env: str) -> tuple[int, str]:
    """`python -m bot ARGS` with the installed environment's python; (exit code, output)."""
    process = await asyncio.create_subprocess_exec(
        str(venv / "bin" / "python"),
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env=clean_env(**env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    return int(process.returncode or 0), output.decode()


async def ready(port: int) -> int | None:
    url = f"http://127.0.0.1:{port}/readyz"
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(2)) as session,
            session.get(url) as answer,
        ):
            return answer.status
    except (aiohttp.ClientError, TimeoutError):
        return None


@pytest.mark.postgres
async def test_the_installed_bot_migrates_an_empty_database_and_serves_readyz(
    venv: Path, tmp_path: Path
) -> None:
    async with own_database("install") as database:
        code, output = await run_bot_async(venv, tmp_path, "migrate", DATABASE_URL=database.url)
        assert code == 0, output
        assert "Database schema is up to date." in output
        assert await alembic_versions(database) == head_revisions()

        port = free_port()
        server = await asyncio.create_subprocess_exec(
            str(venv / "bin" / "python"),
            "-m",
            "bot",
            "serve",
            "--port",
            str(port),
            cwd=tmp_path,
            env=clean_env(DATABASE_URL=database.url, HOST="127.0.0.1"),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            status = None
            deadline = time.monotonic() + READY_TIMEOUT
            while time.monotonic() < deadline and server.returncode is None:
                status = await ready(port)
                if status == 200:
                    break
                await asyncio.sleep(0.3)
            assert status == 200, f"/readyz answered {status}"
        finally:
            if server.returncode is None:
                server.terminate()
            try:
                printed, _ = await asyncio.wait_for(server.communicate(), timeout=20)
            except TimeoutError:
                server.kill()
                printed, _ = await server.communicate()
        assert "Community MARAC bot on http://127.0.0.1" in printed.decode(), printed.decode()


def test_the_dockerfile_runs_the_install_script_and_serves_the_bot() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    instructions = [line.strip() for line in dockerfile.splitlines() if line.strip()]
    assert instructions[0].startswith("#") or instructions[0].startswith("FROM")
    assert re.search(r"^FROM python:3\.11-slim-bookworm$", dockerfile, re.MULTILINE)
    assert re.search(r"^RUN /src/deploy/install\.sh /opt/marac\b", dockerfile, re.MULTILINE)
    assert re.search(r"^USER marac$", dockerfile, re.MULTILINE)
    cmd = re.search(r"^CMD (.+)$", dockerfile, re.MULTILINE)
    assert cmd is not None
    assert cmd.group(1) == '["python", "-m", "bot", "serve", "--host", "0.0.0.0"]'
    health = dockerfile[dockerfile.index("HEALTHCHECK") :]
    assert "urllib.request.urlopen" in health and "/readyz" in health
    assert "curl" not in dockerfile
    # The image's python is the installed environment's.
    assert "PATH=/opt/marac/bin:$PATH" in dockerfile


def test_compose_migrates_once_then_starts_two_bots_behind_nginx() -> None:
    compose = (REPO / "compose.yaml").read_text()
    # PyYAML is not among the dependencies: the top-level `services:` block, read as text.
    block = re.search(r"^services:\n(.*?)(?=^\S)", compose, re.MULTILINE | re.DOTALL)
    assert block is not None
    services = re.findall(r"^  ([a-z0-9]+):$", block.group(1), re.MULTILINE)
    assert services == ["db", "migrate", "bot1", "bot2", "nginx"]
    assert 'command: ["python", "-m", "bot", "migrate"]' in compose
    assert compose.count('command: ["python", "-m", "bot", "serve", "--host", "0.0.0.0"]') == 2
    assert compose.count("condition: service_completed_successfully") == 2
    assert "image: postgres:15" in compose
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in compose
    assert "env_file: .env" in compose
    assert "build: ." in compose  # the Dockerfile: deploy/install.sh
    # No secret in the file: the password comes from .env.
    secrets = re.findall(r"^\s*[A-Z_]*(?:PASSWORD|SECRET)[A-Z_]*:\s*(\S+)", compose, re.MULTILINE)
    assert secrets, "the database's password is set from .env"
    assert all(value.startswith("${") for value in secrets), secrets
    nginx = (REPO / "deploy" / "nginx.conf").read_text()
    assert "server bot1:3978" in nginx and "server bot2:3978" in nginx
    assert not re.search(r"^\s*(ip_hash|hash|least_conn)\b", nginx, re.MULTILINE)


def test_the_install_script_installs_no_development_extras_and_no_editable_copy() -> None:
    script = INSTALL.read_text()
    assert "-e " not in script and "--editable" not in script
    assert "[dev]" not in script
    assert os.access(INSTALL, os.X_OK)


def test_dev_sh_test_collects_this_directory() -> None:
    """`./dev.sh test` (and .ci/run) runs pytest with pyproject's testpaths: tests/ and so
    tests/scale."""
    pyproject = (REPO / "pyproject.toml").read_text()
    assert re.search(r'^testpaths = \["tests"\]$', pyproject, re.MULTILINE)
    assert Path(__file__).resolve().is_relative_to(REPO / "tests")
    assert (Path(__file__).parent / "__init__.py").exists()
    assert MIGRATIONS.is_dir()
