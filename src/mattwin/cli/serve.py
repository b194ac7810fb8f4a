"""``mattwin serve``: the read-only dashboard over a store."""

from __future__ import annotations

import errno
import socket
from typing import Annotated

import typer

from mattwin.cli.common import DbOpt, app, console, fail


def _check_port(host: str, port: int) -> None:
    """Fail (exit 2) when ``host:port`` cannot be bound: in use, or not an address of this machine."""
    from mattwin.errors import SettingsError

    if not 0 < port < 65536:
        fail(SettingsError(f"--port {port}: give a port between 1 and 65535"))
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        fail(
            SettingsError(f"--host {host}: not an address ({exc.strerror}); give an IP address or localhost")
        )
        return
    family, _, _, _, addr = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(addr)
        except OSError as exc:
            why = "already in use" if exc.errno == errno.EADDRINUSE else exc.strerror
            fail(
                SettingsError(f"--port {port}: cannot listen on {host}:{port} ({why}); choose another --port")
            )


@app.command()
def serve(
    db: DbOpt = None,
    host: Annotated[
        str, typer.Option(help="address to listen on; a non-local one needs a token")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8765,
    token: Annotated[
        str | None, typer.Option(help="token every request must carry (header X-Mattwin-Token or ?token=)")
    ] = None,
    generate_token: Annotated[
        bool, typer.Option("--generate-token", help="on a non-local host: generate a token and print it")
    ] = False,
) -> None:
    """A read-only live dashboard over the store: campaigns, candidates, structures, measurements."""
    from mattwin.errors import MattwinError
    from mattwin.serve.security import bind_token, is_local

    try:
        required = bind_token(host, token, generate_token)
        from mattwin.serve import create_app, open_read_only

        store = open_read_only(db)
    except MattwinError as exc:
        fail(exc)
        return
    _check_port(host, port)
    if not is_local(host):
        console.print(
            f"[bold yellow]warning:[/] listening on {host}, reachable from other machines; every request "
            "must carry the token (plain HTTP: use it on a trusted network or behind TLS)"
        )
    if required is not None and token is None:
        console.print(f"token: {required}")
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    url = f"http://{shown}:{port}/" + (f"?token={required}" if required and token is None else "")
    console.print(f"mattwin dashboard on {url} over {store.shown} (read-only); Ctrl-C stops it")
    import uvicorn

    uvicorn.run(create_app(store, token=required), host=host, port=port, log_level="warning")
