"""``kitops serve`` answers before the API's routes are built (``ApiLater``): a request to
the API that arrives meanwhile waits for them and gets the API's answer, never a 404;
the pages answer at once."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient

from kitops.data.engine import Database
from kitops.web import api
from kitops.web import app as web_app
from kitops.web.door import Door


class Watched(threading.Event):
    """An event that says when someone has begun to wait on it."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = threading.Event()

    def wait(self, timeout: float | None = None) -> bool:
        self.waiting.set()
        return super().wait(timeout)


def test_an_api_request_during_the_build_waits_for_the_routes(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_install = api.install_routes
    gates: list[Watched] = []

    class Later(web_app.ApiLater):
        def __init__(self, app: object) -> None:
            super().__init__(app)  # type: ignore[arg-type]
            self.ready = Watched()
            gates.append(self.ready)

    def install_once_a_request_waits(app: object) -> None:
        assert gates[0].waiting.wait(30), "no API request came to wait"
        real_install(app)  # type: ignore[arg-type]

    monkeypatch.setattr(web_app, "ApiLater", Later)
    monkeypatch.setattr(api, "install_routes", install_once_a_request_waits)
    app = web_app.create_app(door=Door(db), api_later=True)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/login").status_code == 200  # the pages answer while it builds
        answer = client.get("/api/v1/stock")  # no token: the API's own refusal
        assert gates[0].waiting.is_set()
        assert answer.status_code == 401
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert client.get("/api/openapi.json").json()["paths"]


def test_without_api_later_the_routes_exist_before_the_app_is_returned(db: Database) -> None:
    assert "/api/v1/stock" in web_app.create_app(door=Door(db)).openapi()["paths"]
    later = web_app.create_app(door=Door(db), api_later=True)  # not started: not built
    assert "/api/v1/stock" not in later.openapi()["paths"]
