"""The web app's own rules, each found by a review: a wrong bearer does not stand in for the
CSRF token, the login form works without extra parsers, a bug on the API is one JSON line,
only `/login` itself is open, and a reconnecting stream misses nothing however far behind."""

from __future__ import annotations

import asyncio

from test_web_api import QUICKSTART, make_client

from aiflow_lite import ops


def test_a_wrong_bearer_beside_a_valid_cookie_still_needs_the_csrf_token(home):
    ops.upload_workflows(str(QUICKSTART))
    with make_client(token="s3cret") as client:
        login = client.post("/login", data={"token": "s3cret", "next": "/"},
                            follow_redirects=False)
        assert login.status_code == 303 and login.headers["location"] == "/"
        # Logged in by cookie now; a wrong bearer header must not switch off the CSRF check.
        forged = client.post("/api/v1/workflows/quickstart/executions",
                             headers={"Authorization": "Bearer wrong"})
        assert forged.status_code == 403 and "CSRF" in forged.json()["error"]
        token = client.get("/api/v1/csrf").json()["csrf_token"]
        started = client.post("/api/v1/workflows/quickstart/executions",
                              headers={"x-csrf-token": token})
        assert started.status_code == 201, started.text


def test_a_wrong_token_in_the_login_form_is_refused_and_sets_no_cookie(home):
    with make_client(token="s3cret") as client:
        wrong = client.post("/login", data={"token": "nope"}, follow_redirects=False)
        assert wrong.status_code == 401 and "That is not the token" in wrong.text
        assert "aiflow_token" not in client.cookies
        assert client.get("/api/v1/server").status_code == 401


def test_only_the_login_page_itself_is_open(home):
    with make_client(token="s3cret") as client:
        assert client.get("/login").status_code == 200
        closed = client.get("/login-and-more", follow_redirects=False)  # not open by prefix
        assert closed.status_code == 303 and closed.headers["location"].startswith("/login?")
        assert client.get("/static/app.css").status_code == 200


def test_a_bug_on_the_api_is_one_json_line(home, monkeypatch):
    from aiflow_lite.web import api

    def broken(request):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(api, "server_info", broken)
    with make_client(raise_server_exceptions=False) as client:
        reply = client.get("/api/v1/server")
    assert reply.status_code == 500
    assert reply.json() == {"error": "internal error (RuntimeError); see the webserver's log"}


def test_a_stream_resumed_far_behind_sends_every_event_after_its_offset(home):
    from aiflow_lite.config import load_aiflow_settings
    from aiflow_lite.events import Event
    from aiflow_lite.ns.client import NotificationClient
    from aiflow_lite.web.live import READ_BATCH, LiveHub, Subscriber

    with NotificationClient() as client:
        client.send_events([Event("k", str(i)) for i in range(READ_BATCH * 2 + 5)])
    hub = LiveHub(load_aiflow_settings())

    async def collect() -> list:
        offsets = []
        subscriber = Subscriber()
        stream = hub.stream(subscriber, since=3)
        async for message in stream:
            if message.startswith("id: "):
                offsets.append(int(message.split("\n", 1)[0][4:]))
            if len(offsets) == READ_BATCH * 2 + 2:
                break
        await stream.aclose()
        return offsets

    offsets = asyncio.run(collect())
    assert offsets == list(range(4, READ_BATCH * 2 + 6))
