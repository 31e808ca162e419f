"""Every route of the server, walked from the app itself: a page asked for without a
session is sent to the login page (303), an API route without a token answers 401 as a
problem detail, and nothing else is open but the few routes listed as public. A new route
is checked the day it is added: it needs a sample for each of its path parameters here,
and to be a page, an API route or a listed public one."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Route

from kitops.data.engine import Database, open_database
from kitops.web.app import create_app
from kitops.web.door import Door
from kitops.web.pages.common import PageRoute
from tests.web.api_support import PROBLEM

# a value for every path parameter a route may have
SAMPLES = {
    "code": "PTT6-C0115",
    "serial": "K0000001",
    "course_id": "1",
    "order_id": "1",
    "number": "PO-000001",
    "action": "approve",
    "name": "stock",
    "fmt": "csv",
    "key": "web_session_idle_minutes",
}
# routes open to anyone: logging in, the API's description, Stripe's webhook (signed)
PUBLIC = {
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/api/openapi.json"),
    ("GET", "/api/docs"),
    ("GET", "/stripe/webhook"),
    ("POST", "/stripe/webhook"),
}


def _routes() -> list[tuple[str, str, str]]:
    """(method, path template, kind) of every route: kind is page, api or public."""
    app = create_app(door=Door.__new__(Door))  # no database: only its routes are read
    try:  # newer FastAPI keeps an included router as one group: walk into them
        from fastapi.routing import iter_route_contexts

        contexts: list[Any] = list(iter_route_contexts(app.routes))
    except ImportError:  # pragma: no cover - older FastAPI lists every route flat
        contexts = list(app.routes)
    found = []
    for context in contexts:
        route = getattr(context, "original_route", context)
        if not isinstance(route, (APIRoute, Route)):
            continue  # static files (a mount): htmx, the stylesheet, Swagger UI's assets
        for method in sorted((context.methods or set()) - {"HEAD"}):
            path = context.path
            if (method, path) in PUBLIC:
                kind = "public"
            elif isinstance(route, PageRoute):
                kind = "page"
            elif path.startswith("/api/v1/"):
                kind = "api"
            else:
                kind = "unchecked"
            found.append((method, path, kind))
    return found


ROUTES = _routes()


def _filled(template: str) -> str:
    names = [part[1:-1] for part in template.replace("}", "}/").split("/")
             if part.startswith("{") and part.endswith("}")]  # fmt: skip
    missing = [name for name in names if name not in SAMPLES]
    assert not missing, f"{template}: add a sample value for {missing} to SAMPLES"
    path = template
    for name in names:
        path = path.replace("{" + name + "}", SAMPLES[name])
    return path


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]


@pytest.fixture(scope="module", params=BACKENDS)
def anonymous(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, Database]]:
    """A browser or an integration that has not logged in, on an empty database of this
    module's own (one per backend: nothing here writes but refusals)."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path_factory.mktemp("routes") / "kitops.db"
        shutil.copyfile(template, target)
        url, drop = f"sqlite:///{target}", None
    else:
        admin = request.getfixturevalue("pg_admin")
        drop, url = admin.clone(request.getfixturevalue("pg_template"))
    db = open_database(url)
    client = TestClient(create_app(door=Door(db)), base_url="http://testserver",
                        follow_redirects=False)  # fmt: skip
    with client:
        yield client, db
    db.dispose()
    if drop is not None:
        admin.drop_later(drop)


def test_every_route_is_a_page_an_api_route_or_listed_as_public():
    assert {kind for _, _, kind in ROUTES} == {"page", "api", "public"}, [
        (method, path) for method, path, kind in ROUTES if kind == "unchecked"
    ]
    assert sum(kind == "page" for _, _, kind in ROUTES) >= 25
    assert sum(kind == "api" for _, _, kind in ROUTES) >= 20
    assert {(m, p) for m, p, kind in ROUTES if kind == "public"} == PUBLIC


@pytest.mark.parametrize(
    ("method", "template"),
    [(method, path) for method, path, kind in ROUTES if kind == "page"],
    ids=[f"{method} {path}" for method, path, kind in ROUTES if kind == "page"],
)
def test_a_page_without_a_session_sends_the_browser_to_log_in(anonymous, method, template):
    client, _ = anonymous
    path = _filled(template)
    answer = client.request(method, path, data={"csrf": "0" * 64})
    assert answer.status_code == 303, answer.text
    target = urlsplit(answer.headers["location"])
    assert target.path == "/login"
    assert parse_qs(target.query)["next"] == [path]
    assert "Traceback" not in answer.text


@pytest.mark.parametrize(
    ("method", "template"),
    [(method, path) for method, path, kind in ROUTES if kind == "api"],
    ids=[f"{method} {path}" for method, path, kind in ROUTES if kind == "api"],
)
def test_an_api_route_without_a_token_answers_401_as_a_problem_detail(anonymous, method,
                                                                      template):  # fmt: skip
    client, _ = anonymous
    answer = client.request(method, _filled(template), json={})
    assert answer.status_code == 401, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM)
    assert answer.json()["status"] == 401
    assert answer.headers.get("www-authenticate", "").lower().startswith("bearer")
