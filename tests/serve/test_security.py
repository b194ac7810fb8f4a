"""Security of the dashboard: tokens, read-only connection (SQLite and PostgreSQL), escaping of
user-supplied text, no file outside the package's assets, no external URL; and ``mattwin serve``'s
bad input (exit 2, one line)."""

from __future__ import annotations

import hashlib
import json
import re
import socket
import warnings
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from mattwin.cli.main import app as cli
from mattwin.errors import SettingsError
from mattwin.serve import create_app, open_read_only
from mattwin.serve.security import bind_token, is_local
from mattwin.store import schema
from mattwin.store.store import Store

warnings.filterwarnings("ignore", message=".*httpx.*")
from fastapi.testclient import TestClient  # noqa: E402

XSS = "<script>alert(1)</script>"
TOKEN = "s3cret-token-for-tests-0123"


def _client(db: Path | str, token: str | None = None) -> TestClient:
    return TestClient(
        create_app(open_read_only(str(db)), token=token), follow_redirects=False, base_url="http://127.0.0.1"
    )


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _pages(c: TestClient) -> dict[str, str]:
    cid = c.get("/api/campaigns").json()[0]["id"]
    html = c.get(f"/campaign/{cid}").text
    mid = re.findall(r"/candidate/([0-9a-f]+)\?campaign", html)[0]
    cand = c.get(f"/candidate/{mid}?campaign={cid}").text
    key = re.findall(r"/calculation/([0-9a-f]+)", cand)[0]
    urls = ["/", f"/campaign/{cid}", f"/candidate/{mid}?campaign={cid}", f"/calculation/{key}"]
    urls += ["/measurements", "/calibrations"]
    out = {}
    for u in urls:
        r = c.get(u)
        assert r.status_code == 200, (u, r.status_code)
        out[u] = r.text
    return out


def test_non_local_bind_needs_a_token() -> None:
    assert is_local("127.0.0.1") and is_local("::1") and is_local("localhost")
    assert not is_local("0.0.0.0") and not is_local("192.168.1.7")
    assert bind_token("127.0.0.1", None, generate=False) is None
    with pytest.raises(SettingsError, match="needs a token"):
        bind_token("0.0.0.0", None, generate=False)
    generated = bind_token("0.0.0.0", None, generate=True)
    assert generated and len(generated) >= 24
    with pytest.raises(SettingsError, match="16 printable"):
        bind_token("0.0.0.0", "short", generate=False)


def test_requests_without_the_token_are_rejected(campaign_db: Path) -> None:
    c = _client(campaign_db, TOKEN)
    for url in ["/", "/api/campaigns", "/measurements", "/static/dashboard.js", "/static/plotly.min.js"]:
        assert c.get(url).status_code == 401, url
        assert c.get(url, headers={"X-Mattwin-Token": "wrong-token-0123456789"}).status_code == 401
    assert c.get("/", headers={"X-Mattwin-Token": TOKEN}).status_code == 200
    assert c.get("/api/campaigns", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    # ?token= once: a redirect that drops it from the URL and sets an HttpOnly cookie
    r = c.get(f"/measurements?token={TOKEN}")
    assert r.status_code == 303 and r.headers["location"].endswith("/measurements")
    assert "httponly" in r.headers["set-cookie"].lower()
    assert c.get("/measurements").status_code == 200  # the client now sends the cookie
    assert _client(campaign_db, TOKEN).get("/?token=nope").status_code == 401


def test_the_store_cannot_be_written(campaign_db: Path) -> None:
    before = _sha(campaign_db)
    ro = open_read_only(str(campaign_db))
    row = {"id": "x" * 16, "name": "evil", "config": "{}", "created_at": None}
    with pytest.raises(DBAPIError, match="readonly|read-only|query_only|attempt to write"):
        with ro.engine.begin() as conn:
            conn.execute(insert(schema.campaigns).values(**row))
    with pytest.raises(DBAPIError):
        with ro.engine.begin() as conn:
            conn.execute(text("DELETE FROM calculations"))
    with pytest.raises(DBAPIError):
        with ro.engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
    c = TestClient(create_app(ro), base_url="http://127.0.0.1")
    for method in ("post", "put", "delete", "patch"):
        for url in ["/", "/api/campaigns", "/measurements", "/static/dashboard.js"]:
            assert getattr(c, method)(url).status_code == 405, (method, url)
    _pages(c)
    assert _sha(campaign_db) == before
    with Store(str(campaign_db)).engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM campaigns WHERE name = 'evil'")).scalar_one() == 0


@pytest.mark.parametrize("store", ["sqlite", "postgresql"], indirect=True)
def test_read_only_on_both_backends(store: Store, cu_fcc: Any) -> None:
    mid = store.put_material(cu_fcc)
    ro = open_read_only(store.url)
    with ro.engine.connect() as conn:
        assert conn.execute(text("SELECT id FROM materials")).scalar_one() == mid
    with pytest.raises(DBAPIError, match="(?i)read-only|readonly|attempt to write"):
        with ro.engine.begin() as conn:
            conn.execute(text("DELETE FROM materials"))
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM materials")).scalar_one() == 1
    ro.engine.dispose()


def test_user_text_is_escaped(db_copy: Path) -> None:
    store = Store(str(db_copy))
    with store.engine.begin() as conn:
        row = conn.execute(text("SELECT id, result FROM campaigns")).one()
        result = json.loads(row.result)
        for cand in result["candidates"]:
            cand["origin"] = "<img src=x onerror=alert(2)>"
        conn.execute(
            text("UPDATE campaigns SET name = :n, result = :r WHERE id = :i"),
            {"n": XSS, "r": json.dumps(result), "i": row.id},
        )
    store.engine.dispose()
    pages = _pages(_client(db_copy))
    for url, html in pages.items():
        assert XSS not in html and "<img src=x" not in html, url
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages["/"]
    campaign_page = next(h for u, h in pages.items() if u.startswith("/campaign"))
    assert "&lt;img src=x onerror=alert(2)&gt;" in campaign_page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; notebook" in pages["/measurements"]


@pytest.mark.parametrize(
    "url",
    [
        "/static/../app.py",
        "/static/..%2Fapp.py",
        "/static/%2e%2e%2fapp.py",
        "/static/%2e%2e/%2e%2e/db.py",
        "/static/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "/static/%252e%252e%252fapp.py",
        "/static//etc/passwd",
        "/static/..\\app.py",
        "/static/templates/base.html",
        "/static/",
        "/../../etc/passwd",
    ],
)
def test_no_file_outside_the_assets(campaign_db: Path, url: str) -> None:
    r = _client(campaign_db).get(url)
    assert r.status_code in (404, 405, 307, 308), (url, r.status_code)
    assert "import" not in r.text and "root:" not in r.text and "{% " not in r.text


def test_assets_are_the_packaged_ones(campaign_db: Path) -> None:
    from plotly.offline import get_plotlyjs

    import mattwin.serve

    c = _client(campaign_db)
    static = Path(mattwin.serve.__file__).parent / "static"
    assert c.get("/static/3Dmol-min.js").content == (static / "3Dmol-min.js").read_bytes()
    assert c.get("/static/plotly.min.js").text == get_plotlyjs()
    assert "BSD" in c.get("/static/3Dmol-LICENSE.txt").text


def test_no_page_references_an_external_url(campaign_db: Path) -> None:
    c = _client(campaign_db)
    for url, html in _pages(c).items():
        refs = re.findall(r"""(?:src|href|action)\s*=\s*["']?([^"'\s>]+)""", html)
        assert refs, url
        external = [r for r in refs if re.match(r"(?i)([a-z][a-z0-9+.-]*:|//)", r) and not r.startswith("#")]
        assert not external, (url, external)
        assert "@import" not in html and "url(http" not in html
    csp = c.get("/").headers["content-security-policy"]
    assert "default-src 'self'" in csp and "connect-src 'self'" in csp


# -- mattwin serve: bad input ------------------------------------------------------------------------
def _one_error_line(result: Any, *words: str) -> None:
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for w in words:
        assert w in lines[0], (w, lines[0])


def test_serve_missing_database(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["serve", "--db", str(tmp_path / "nope.db")])
    _one_error_line(result, "nope.db", "no such database")
    assert not (tmp_path / "nope.db").exists()


def test_serve_not_a_store(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    _one_error_line(CliRunner().invoke(cli, ["serve", "--db", str(junk)]), "junk.db")


def test_serve_port_in_use(campaign_db: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", "--db", str(campaign_db), "--port", str(port)])
    _one_error_line(result, f"--port {port}", "in use")


def test_serve_non_local_host_without_token(campaign_db: Path) -> None:
    result = CliRunner().invoke(cli, ["serve", "--db", str(campaign_db), "--host", "0.0.0.0"])
    _one_error_line(result, "--host 0.0.0.0", "token")


def test_serve_command_on_a_non_local_host(campaign_db: Path) -> None:
    """The real command in its own process: warning and generated token printed, requests without the
    token refused, with it answered; stopped with SIGTERM."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "mattwin.cli.main", "serve", "--db", str(campaign_db), "--host", "0.0.0.0",
           "--port", str(port), "--generate-token"]  # fmt: skip
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "200"})
    try:
        lines: list[str] = []
        deadline = time.time() + 60
        while not any("dashboard on" in ln for ln in lines):
            assert time.time() < deadline and proc.poll() is None, "".join(lines)
            lines.append(proc.stderr.readline())  # type: ignore[union-attr]
        out = "".join(lines)
        assert "warning:" in out and "0.0.0.0" in out
        token = re.search(r"token: (\S+)", out).group(1)  # type: ignore[union-attr]
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                r = httpx.get(url + "/api/campaigns", timeout=5)
                break
            except httpx.ConnectError:
                time.sleep(0.1)
        assert r.status_code == 401
        ok = httpx.get(url + "/api/campaigns", headers={"X-Mattwin-Token": token}, timeout=5)
        assert ok.status_code == 200 and ok.json()[0]["status"] == "finished"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)


def test_a_local_dashboard_answers_loopback_names_only(campaign_db: Path) -> None:
    """Without a token, a request addressed to another name (a DNS-rebinding page) is refused."""
    app = create_app(open_read_only(str(campaign_db)))
    for base in ("http://127.0.0.1:8765", "http://localhost:8765", "http://[::1]:8765"):
        assert TestClient(app, base_url=base).get("/api/campaigns").status_code == 200, base
    for base in ("http://evil.example:8765", "http://testserver", "http://192.168.1.7:8765"):
        assert TestClient(app, base_url=base).get("/api/campaigns").status_code == 400, base
    # with a token the name does not matter: the token is the check
    tok = create_app(open_read_only(str(campaign_db)), token=TOKEN)
    r = TestClient(tok, base_url="http://dashboard.lab:8765").get("/", headers={"X-Mattwin-Token": TOKEN})
    assert r.status_code == 200
