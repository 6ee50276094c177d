"""``stridelab serve``: the local web dashboard (see docs/web.md)."""

from __future__ import annotations

import secrets
import socket
import threading
import webbrowser
from pathlib import Path

import typer

from stridelab.cli._common import AthleteOpt, StoreOpt, console, err_console, fail
from stridelab.present.text import markup as esc

__all__ = ["register"]


def _lan_address() -> str:
    """This machine's address on the local network (no packet is sent), or 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1: routing lookup only
            return str(s.getsockname()[0])
        except OSError:
            return "127.0.0.1"


def _print_access(url: str, token: str | None) -> None:
    if token is None:
        console.print(f"stridelab dashboard: [bold]{esc(url)}[/]  (this computer only; Ctrl+C stops)")
        return
    import segno

    link = f"{url}/?token={token}"
    console.print("stridelab dashboard on your network. Open this link on your phone (same Wi-Fi):")
    console.print(f"  [bold]{esc(link)}[/]")
    console.print("or scan:")
    qr = segno.make(link, error="m")
    qr.terminal(compact=True, border=2)
    console.print(
        "The token is shown only now; anyone with the link can see and change your data. Ctrl+C stops."
    )


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve_cmd(
        port: int = typer.Option(8765, "--port", min=0, max=65535, help="TCP port (0: any free port)."),
        host: str = typer.Option(
            "127.0.0.1",
            "--host",
            help="Address to bind. Anything but 127.0.0.1/localhost (e.g. 0.0.0.0) requires --token.",
        ),
        token: str | None = typer.Option(
            None,
            "--token",
            envvar="STRIDELAB_WEB_TOKEN",
            help="Access token for --host 0.0.0.0: 'auto' generates one (printed once, with a QR code).",
        ),
        open_browser: bool = typer.Option(False, "--open", help="Open the dashboard in the default browser."),
        max_upload_mb: int = typer.Option(
            200, "--max-upload-mb", min=1, max=4096, help="Largest uploaded file."
        ),
        max_memory_mb: int | None = typer.Option(
            None,
            "--max-memory",
            min=256,
            help="Memory limit in MB of the process that imports an upload "
            "(default: $STRIDELAB_MAX_MEMORY_MB, else 600).",
        ),
        store: Path | None = StoreOpt,
        athlete: str = AthleteOpt,
    ) -> None:
        """Serve the dashboard (runs, trends, plan & today, balance tests, import) over your store."""
        import uvicorn

        from stridelab.services import StoreError
        from stridelab.services.runs import store_location
        from stridelab.web import WebConfig, create_app, is_loopback

        if token == "auto":
            token = secrets.token_urlsafe(24)
        if not is_loopback(host) and not token:
            raise fail(
                f"refusing to serve on {host} without a token: anyone on the network could read and change "
                "your data. Add `--token auto` (a token is printed once, with a QR code for your phone) or "
                "bind to 127.0.0.1."
            )
        from stridelab.services.memory import budget_from_env

        try:
            memory = max_memory_mb * 1024 * 1024 if max_memory_mb is not None else budget_from_env()
            config = WebConfig(
                store_path=store_location(store),
                athlete=athlete,
                host=host,
                port=port,
                token=token,
                max_upload_bytes=max_upload_mb * 1024 * 1024,
                max_memory_bytes=memory,
            )
            web_app = create_app(config)
        except (ValueError, StoreError) as exc:
            raise fail(str(exc)) from exc
        server = uvicorn.Server(
            uvicorn.Config(
                web_app, host=host, port=port, log_level="warning", access_log=False, lifespan="on"
            )
        )
        shown = "localhost" if is_loopback(host) else (_lan_address() if host in ("0.0.0.0", "::") else host)

        def announce() -> None:
            while not server.started and not server.should_exit:
                threading.Event().wait(0.05)
            if not server.started:
                return
            bound = port
            for srv in getattr(server, "servers", []) or []:
                for sock in getattr(srv, "sockets", []) or []:
                    bound = sock.getsockname()[1]
            url = f"http://{'127.0.0.1' if shown == 'localhost' else shown}:{bound}"
            _print_access(url, token)
            if open_browser:
                webbrowser.open(f"{url}/?token={token}" if token else url)

        threading.Thread(target=announce, daemon=True).start()
        try:
            server.run()
        except OSError as exc:
            err_console.print(
                f"[bold red]error:[/] cannot listen on {esc(host)}:{port}: {esc(exc.strerror or exc)}"
            )
            raise typer.Exit(2) from exc
        if not server.started:
            raise typer.Exit(2)
