"""Fixtures of the browser tests: JupyterLab servers driven by Debian's Chromium (Playwright).

- `student_env`: a student's Python environment: `pip install .` of this project (no
  solutions) into a fresh virtual environment, with nbgrader's Jupyter files; the libraries
  themselves (TensorFlow, JupyterLab, ...) come from the test environment through a path
  file, so that it takes seconds, not a TensorFlow download.
- `lab_server(python, root, ...)`: a JupyterLab server on a free local port, with its own
  settings, runtime and config folders, no news, no update checks.
- `browser`: one headless Chromium (`/usr/bin/chromium`, never a downloaded build).
- `person(name)`: a fresh browser profile (its own user-data-dir) that can reach only this
  machine (every other request is refused and recorded), with a page. When a test fails,
  each person's page is saved as a screenshot under the pytest temp folder
  (`.../browser-artifacts/`), and the path is printed.
"""

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import sysconfig
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CNN_COURSE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
ARTIFACTS = "browser-artifacts"
# the files of this project that `pip install .` needs (copied, so the checkout stays clean)
PROJECT_FILES = (
    "pyproject.toml",
    "setup.py",
    "README.md",
    "course",
    "autograder",
    "jupyter-config",
)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


def _failed(request) -> bool:
    return any(
        getattr(getattr(request.node, f"report_{when}", None), "failed", False)
        for when in ("setup", "call")
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory) -> Path:
    return tmp_path_factory.getbasetemp() / ARTIFACTS


# --- environments and servers ------------------------------------------------------------------


@pytest.fixture(scope="session")
def student_env(tmp_path_factory) -> Path:
    """The python of a student's environment: cnn-course installed with pip, no solutions."""
    tmp = tmp_path_factory.mktemp("student-env")
    source = tmp / "source"
    source.mkdir()
    for name in PROJECT_FILES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, source / name)
    env_dir = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", env_dir], check=True)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # the libraries of the test environment, as a plain path: its .pth files (the editable
    # installs of cnn-course and cnn-course-solutions) are not read
    Path(purelib, "course-libraries.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    import nbgrader

    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps"]
    for args in ([str(source)], ["--ignore-installed", f"nbgrader=={nbgrader.__version__}"]):
        run = subprocess.run([*pip, *args], capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    check = subprocess.run(
        [python, "-c", "import autograder, course; import solutions"],
        cwd=tmp,
        capture_output=True,
        text=True,
    )
    assert "No module named 'solutions'" in check.stderr, check.stderr[-2000:]
    return python


class LabServer:
    """A JupyterLab server in its own process, with its own Jupyter home folders."""

    def __init__(self, python: Path, root: Path, home: Path, env: dict | None = None):
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.base = f"http://127.0.0.1:{self.port}"
        home.mkdir(parents=True, exist_ok=True)
        settings = home / "lab-settings" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True, exist_ok=True)
        (settings / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False})
        )
        config = home / "config"
        config.mkdir(exist_ok=True)
        (config / "jupyter_server_config.json").write_text(
            json.dumps(
                {
                    "LabApp": {
                        "news_url": None,
                        "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
                    }
                }
            )
        )
        full_env = {
            **os.environ,
            "HOME": str(home),
            "JUPYTER_CONFIG_DIR": str(config),
            "JUPYTER_DATA_DIR": str(home / "data"),
            "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
            "JUPYTERLAB_SETTINGS_DIR": str(home / "lab-settings"),
            "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
            "IPYTHONDIR": str(home / "ipython"),
            "PATH": os.pathsep.join([str(Path(python).parent), os.environ.get("PATH", "")]),
            **(env or {}),
        }
        full_env.pop("PYTHONPATH", None)
        full_env.pop("VIRTUAL_ENV", None)
        for name in [n for n in full_env if n.startswith("TF_") and not (env and n in env)]:
            del full_env[name]  # the lessons must quiet TensorFlow themselves
        self.log_path = home / "jupyterlab.log"
        command = [
            str(python),
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={root}",
        ]
        if os.geteuid() == 0:
            command.append("--allow-root")
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(
                command, cwd=root, env=full_env, stdout=log, stderr=subprocess.STDOUT
            )
        self._wait()

    def _wait(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited:\n{self.log()[-3000:]}")
            try:
                urllib.request.urlopen(f"{self.base}/api/status?token={self.token}", timeout=2)
                return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"JupyterLab did not start in {timeout} s:\n{self.log()[-3000:]}")

    def url(self, path: str) -> str:
        return f"{self.base}{path}{'&' if '?' in path else '?'}token={self.token}"

    def status(self, path: str) -> int:
        try:
            return urllib.request.urlopen(self.url(path), timeout=30).status
        except urllib.error.HTTPError as error:
            return error.code

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


@pytest.fixture
def lab_server(tmp_path):
    """Start JupyterLab servers: `lab_server(python, root, env=None)`; stopped after the test."""
    servers = []

    def start(python, root, env=None):
        server = LabServer(python, root, tmp_path / f"jupyter-home-{len(servers)}", env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


# --- the browser -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium from Debian's package, through Playwright (no browser download)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    if not CHROMIUM.is_file():
        message = f"{CHROMIUM} not found: apt-get install chromium (or set CNN_COURSE_CHROMIUM)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    playwright = sync_playwright().start()
    yield playwright.chromium
    playwright.stop()


class Person:
    """Someone at a browser: a fresh profile that reaches only this machine, and a page."""

    def __init__(self, browser_type, name: str, profile: Path):
        self.name = name
        self.blocked: list[str] = []
        self.context = browser_type.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        self.context.route("**/*", self._offline)
        self.context.set_default_timeout(30_000)
        self.page = self.context.pages[0] if self.context.pages else self.context.new_page()

    def _offline(self, route):
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("file", "data", "blob") or parts.hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("internetdisconnected")

    def shot(self, folder: Path, label: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.name}-{label}.png"
        self.page.screenshot(path=str(path), full_page=False)
        return path

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def person(request, browser, artifacts, tmp_path):
    """`person(name)`: a Person; on failure each one's page is kept as a screenshot."""
    people = []

    def make(name: str) -> Person:
        someone = Person(browser, name, tmp_path / f"profile-{name}")
        people.append(someone)
        return someone

    yield make
    for someone in people:
        if _failed(request):
            try:
                path = someone.shot(artifacts, f"{request.node.name}-failure")
                print(f"\nscreenshot of {someone.name}'s page at the failure: {path}")
            except Exception as error:  # a crashed page cannot be photographed
                print(f"\nno screenshot of {someone.name}'s page: {error}")
        someone.close()


def pytest_terminal_summary(terminalreporter, config):
    base = getattr(config, "_tmp_path_factory", None)
    if base is None:
        return
    folder = base.getbasetemp() / ARTIFACTS
    if folder.is_dir() and any(folder.iterdir()):
        terminalreporter.write_line(f"browser screenshots: {folder}")


# --- hostile HTML: a server it would call home to, and what finds it active in a page ---------


class Loopback:
    """An HTTP server on 127.0.0.1 that records the paths asked of it (at most 1000)."""

    def __init__(self):
        hits = self.hits = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if len(hits) < 1000:
                    hits.append(self.path)
                self.send_response(204)
                self.end_headers()

            do_POST = do_GET

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def names(self) -> set[str]:
        return {path.split("/hit/", 1)[-1].split("/")[0] for path in self.hits}

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def loopback():
    server = Loopback()
    yield server
    server.close()


# Active HTML left in a page: elements, event handlers, URLs other than inline images, anchors
# and web links (a link to the web takes a click, and opens without referrer or opener).
FIND_ACTIVE = """({scope, tags}) => {
  const found = [];
  for (const el of document.querySelectorAll(scope)) {
    const tag = el.tagName.toLowerCase();
    if (tags.includes(tag)) found.push('<' + tag + '>');
    if (tag === 'meta' && el.getAttribute('http-equiv')
        && el.getAttribute('http-equiv').toLowerCase() !== 'content-security-policy')
      found.push('<meta http-equiv>');
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase(), value = attr.value.trim().toLowerCase();
      if (name.startsWith('on')) found.push(tag + ' ' + name);
      if (['href', 'src', 'data', 'action', 'formaction', 'xlink:href', 'srcdoc', 'background',
           'poster', 'srcset'].includes(name)
          && !(value.startsWith('data:image/') || value.startsWith('#')
               || (tag === 'a' && /^(https?|mailto):/.test(value))))
        found.push(tag + ' ' + name + '=' + value.slice(0, 60));
      if (name === 'style' && value.includes('url(')) found.push(tag + ' style url()');
    }
  }
  return found;
}"""
ACTIVE_TAGS = ("script", "iframe", "object", "embed", "base", "frame", "applet", "link", "form",
               "svg", "maction")  # fmt: skip


def active_html(page, scope: str = "*", more_tags=()) -> list[str]:
    """What is active in the elements of `page` that `scope` selects (`more_tags`: elements
    that count there too, such as a <style> inside a notebook cell)."""
    return page.evaluate(FIND_ACTIVE, {"scope": scope, "tags": [*ACTIVE_TAGS, *more_tags]})


@pytest.fixture(scope="session")
def find_active():
    return active_html
