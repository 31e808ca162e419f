"""A real server and a real browser: ``kitops serve`` started as a child process on this
test's database, and Debian's chromium driven by Playwright (no browser download).

The server is the command a clinic runs (``kitops --db URL serve --port N``); the test
waits for its port to accept connections, never for a fixed time. Chromium comes from
the system (``/usr/bin/chromium``; ``.ci/run`` installs it with apt when missing): without
it the browser tests are skipped, except under CI (``KITOPS_TEST_REQUIRE_PG=1``), where
they fail.
"""

from __future__ import annotations

import functools
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

LAUNCH = "import sys; from kitops.cli import main; sys.argv[0] = 'kitops'; main()"
WEB_SECRET = "a test key that signs the browser tests' cookies"
ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artefacts"
AXE = Path(__file__).with_name("fixtures") / "axe.min.js"


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Until the server accepts connections (or has died, or ``timeout`` passed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"kitops serve exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"kitops serve did not listen on {port} within {timeout} s")


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> str:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return self.log.read_text(errors="replace")


CLOCK = Path(__file__).resolve().parents[1] / "clock"


def start_server(db_url: str, folder: Path, *, clock: str | None = None) -> Server:
    """``kitops serve`` on ``db_url``; ``clock``: the instant its clock starts at (it runs
    on from there; tests/clock/pinned_clock.py), so the demo data's day is its today."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KITOPS_")}
    env["KITOPS_WEB_SECRET"] = WEB_SECRET
    if clock is not None:
        env["TESTS_PINNED_CLOCK"] = clock
        paths = [str(CLOCK), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
        env["PYTHONPATH"] = os.pathsep.join(paths)
    log = folder / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-c", LAUNCH, "--db", db_url, "serve", "--port", str(port)],
            stdout=sink, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        wait_for_port(port, process)
    except AssertionError:
        print(server.stop())
        raise
    return server


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Headless chromium, started once for a module's browser tests (over a second each
    time) and closed after them; every test has a context of its own (``browser_page``)."""
    executable = chromium_path()
    if executable is None:
        if os.environ.get("KITOPS_TEST_REQUIRE_PG") == "1":
            pytest.fail("chromium is not installed (.ci/run installs it with apt)")
        pytest.skip("chromium is not installed (apt install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(chromium: Any) -> Iterator[Any]:
    """A Playwright page in headless chromium, 1024x768 (a tablet held sideways), in a
    context of its own: no cookies, storage or cache from another test."""
    from playwright.sync_api import expect

    # waits end on what the page shows; the limit only bounds a loaded machine's slowness
    expect.set_options(timeout=30_000)
    context = chromium.new_context(viewport={"width": 1024, "height": 768})
    try:
        context.set_default_timeout(30_000)
        yield context.new_page()
    finally:
        context.close()


def screenshot(page: Any, name: str) -> Path:
    """A whole-page screenshot kept as a test artefact (test-artefacts/NAME.png)."""
    ARTEFACTS.mkdir(exist_ok=True)
    path = ARTEFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@functools.cache
def axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


def serious_accessibility_violations(page: Any) -> list[str]:
    """axe-core run in the page: the rules broken with a serious or critical impact."""
    if not page.evaluate("typeof axe !== 'undefined'"):  # once per page loaded
        page.add_script_tag(content=axe_source())
    # every rule; only the violations' nodes are collected (the passes' are never read)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} "
        f"[{', '.join(node['target'][0] for node in violation['nodes'][:3])}]"
        for violation in result["violations"]
        if violation["impact"] in ("serious", "critical")
    ]
