"""The image's install, run the way the image runs it (no container engine here): the
wheel built from the files the Dockerfile copies, installed into a fresh virtual
environment owned by root, then `mentorbot migrate`, `mentorbot run` on $PORT and the
Dockerfile's own HEALTHCHECK command, all as an unprivileged user who can write nowhere
but its working directory; SIGTERM stops it cleanly.

Creating that user needs root (CI runs as root); elsewhere the test is skipped."""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_deploy import dockerfile, healthcheck_command

ROOT = Path(__file__).resolve().parent.parent
USER = "mentorbot-ci"
# Building the wheel and (where this checkout is private) installing its dependencies.
pytestmark = pytest.mark.timeout(1200)


@pytest.fixture(scope="module")
def user() -> Iterator[pwd.struct_passwd]:
    if os.geteuid() != 0:
        pytest.skip("creating an unprivileged user needs root (CI runs as root)")
    if shutil.which("useradd") is None or shutil.which("runuser") is None:
        pytest.skip("useradd/runuser are missing")
    created = False
    try:
        entry = pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER],
            check=True,
        )
        created, entry = True, pwd.getpwnam(USER)
    yield entry
    if created:
        subprocess.run(["userdel", USER], check=False)


def others_may_enter(path: Path) -> bool:
    """Whether a user other than the owner can reach (and read) `path`."""
    path = path.resolve()
    return all(os.stat(p).st_mode & 0o001 for p in [path, *path.parents])


def base_python() -> str:
    """An interpreter of this Python version that any user may run (the image's is
    /usr/local/bin/python; this one may live under /root, which others cannot enter)."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    base = str(getattr(sys, "_base_executable", sys.executable))
    for candidate in (base, f"/usr/bin/python{version}"):
        if Path(candidate).exists() and others_may_enter(Path(candidate)):
            return str(Path(candidate).resolve())
    pytest.skip(f"no Python {version} that other users can run (e.g. Debian's python{version})")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str, token: str | None = None) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, ""


def test_the_wheel_runs_as_a_non_root_user_from_a_fresh_venv(user: pwd.struct_passwd) -> None:
    top = Path(tempfile.mkdtemp(prefix="mentorbot-wheel-"))
    try:
        top.chmod(0o755)  # root-owned and read-only for the user, like /opt in the image
        run_as_the_image_does(top, user)
    finally:
        shutil.rmtree(top, ignore_errors=True)


def run_as_the_image_does(top: Path, user: pwd.struct_passwd) -> None:
    # 1. The build stage: the files the Dockerfile copies, and `pip wheel --no-deps .`.
    src = top / "src"
    src.mkdir()
    for line in re.findall(r"^COPY (?!--from)(.*)$", dockerfile(), re.M):
        for name in line.split()[:-1]:
            if name == "app.yaml":
                continue  # copied into the runtime stage, not the wheel
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, src / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(source, src / name)
    wheels = top / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--wheel-dir", wheels, src],
        check=True,
        timeout=300,
    )
    [wheel] = wheels.glob("mentorbot-*.whl")

    # 2. A fresh venv with the wheel. Its dependencies are this environment's (a path
    # entry, so nothing is downloaded again); the project itself comes from the wheel only.
    venv = top / "venv"
    subprocess.run([base_python(), "-m", "venv", venv], check=True, timeout=120)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    ours = Path(sysconfig.get_paths()["purelib"])
    if others_may_enter(ours):
        (Path(purelib) / "deps.pth").write_text(f"{ours}\n")
        install = ["--no-deps", "--no-index", str(wheel)]
    else:  # this checkout is private to root: install the dependencies too, as the image does
        install = [str(wheel)]
    subprocess.run([python, "-m", "pip", "install", "-q", *install], check=True, timeout=900)
    for tree in (top, venv):
        for path in [tree, *tree.rglob("*")]:
            assert path.stat().st_uid == 0  # nothing of the install belongs to the user

    # 3. The runtime stage: app.yaml in /etc-like place, a working directory the user owns.
    etc = top / "etc"
    etc.mkdir()
    shutil.copy2(ROOT / "app.yaml", etc / "app.yaml")
    home = top / "home"
    home.mkdir()
    os.chown(home, user.pw_uid, user.pw_gid)
    port = free_port()
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(home),
        "PYTHONDONTWRITEBYTECODE": "1",
        "MENTORBOT_CONFIG": str(etc / "app.yaml"),
        "DATABASE_URL": f"sqlite:///{home}/mentorbot.db",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "LOG_FORMAT": "json",
        # As in production (the image sets MENTORBOT_ENV=production): a platform is
        # required; Slack's Web API points at loopback's discard port, never outside.
        "MENTORBOT_ENV": "production",
        "SLACK_BOT_TOKEN": "xoxb-image-test",
        "SLACK_SIGNING_SECRET": "image-test-secret",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
        "MENTORBOT_METRICS_TOKEN": "image-test-token",
    }
    # The image's user with only the image's environment (`env -i`).
    as_user = ["runuser", "-u", USER, "--", "env", "-i", *(f"{k}={v}" for k, v in env.items())]
    where = subprocess.run(
        [
            *as_user,
            "python",
            "-c",
            "import bot, os; print(bot.__file__, os.geteuid())",
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=home,
    ).stdout.split()
    assert where[0].startswith(str(venv)) and where[1] == str(user.pw_uid)

    migrate = subprocess.run(
        [
            *as_user,
            "mentorbot",
            "migrate",
        ],
        capture_output=True,
        text=True,
        cwd=home,
        timeout=180,
    )
    assert migrate.returncode == 0, migrate.stderr
    assert "migrated from empty to" in migrate.stdout

    # `mentorbot run`, the image's CMD, as that user (the pid is the bot's own: SIGTERM
    # reaches it as a container runtime's stop would).
    bot = subprocess.Popen(
        ["mentorbot", "run"],
        env=env,
        cwd=home,
        user=user.pw_uid,
        group=user.pw_gid,
        extra_groups=[],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert bot.poll() is None, bot.communicate()[1]
            try:
                if get(base + "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            pytest.fail("mentorbot run did not answer /healthz")
        status = Path(f"/proc/{bot.pid}/status").read_text()
        assert re.search(rf"^Uid:\s+{user.pw_uid}\s", status, re.M)
        assert get(base + "/readyz")[0] == 200
        assert get(base + "/metrics")[0] == 403  # production: the token is required
        code, metrics = get(base + "/metrics", "image-test-token")
        assert code == 200 and "mentorbot_outbox_pending" in metrics
        # The Dockerfile's HEALTHCHECK, exactly as written, as the image's user.
        check = subprocess.run(
            [
                *as_user,
                *healthcheck_command(),
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert check.returncode == 0, check.stderr
    finally:
        bot.send_signal(signal.SIGTERM)
        try:
            _, stderr = bot.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            bot.kill()
            _, stderr = bot.communicate()
    assert bot.returncode == 0, stderr
    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    assert any(entry["message"] == "mentorbot stopped cleanly" for entry in lines)
    assert not any(entry["level"] in ("ERROR", "CRITICAL") for entry in lines), lines
