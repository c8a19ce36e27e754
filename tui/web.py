"""`nnplay web`: the explorer in a browser, for a classroom.

textual-serve serves the page and runs one app process per browser tab (per websocket), so every
tab has its own app and its own engine. A page opened as `/?experiment=STRING` or `/?preset=NAME`
starts its tab's app on that experiment: the value is checked here first (a preset this nnplay has;
an experiment string that decodes and whose settings validate) and reaches the app as one item of
an argument list, never through a shell. textual-serve's own websocket address carries no query (its
page adds the terminal's size to it), so the checked value travels in the websocket's path.

Every tab's app speaks the server's language (`nnplay web --lang ko`), or the one its link names
(`/?lang=ko&preset=NAME`: en or ko, checked like the others); a page that refuses a link says why in
that language.

Every process the server starts carries a marker in its environment (the apps, and through them
their engines). Stopping the server (Ctrl+C, SIGTERM) asks each app to quit, which stops its
engine's run cleanly, then ends whatever still carries the marker.
"""

from __future__ import annotations

import asyncio
import errno
import html
import ipaddress
import logging
import os
import re
import signal
import socket
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp_jinja2
import jinja2
import textual_serve
from aiohttp import WSCloseCode, web
from aiohttp.web_runner import GracefulExit
from rich.console import Console
from rich.markup import escape
from rich.text import Text
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from nnplay.engine.core.events import quoted
from nnplay.engine.core.i18n import LANGUAGES, _, current_language, set_language

FONT_SIZES = range(8, 73)  # the page's font size in pixels (`nnplay web --font-size`, a page's ?fontsize=N)
START_OPTIONS = ("experiment", "preset")  # the page's query parameters, and the app's options of the same names
LANGUAGE_OPTION = "lang"  # the page's query parameter, and the app's option, for the language a tab speaks
# What `nnplay share` writes: letters, digits, '.', '_' and '-'. Checked before decoding, and bounds its work.
EXPERIMENT_TEXT = re.compile(r"[A-Za-z0-9._-]{1,4096}")
MARKER = "NNPLAY_WEB_SERVER"  # in the environment of every app (and so engine) a server starts: its id
# An app ends its engine within EngineClient.shutdown's 3 s plus its two kill graces; then the server kills it.
APP_QUIT_TIMEOUT_S = 10.0
KILL_GRACE_S = 2.0
PAGE = "app_index.html"
GOOGLE_FONTS = re.compile(r"\s*<link[^>]*fonts\.googleapis\.com[^>]*>", re.DOTALL)

log = logging.getLogger("nnplay.web")


class StartError(ValueError):
    """A page's experiment or preset that cannot be opened: one sentence."""


def check_preset(name: str) -> None:
    """Raise StartError unless `name` is a preset of this nnplay (a name, never a file path)."""
    from nnplay.presets import list_presets

    names = [preset.name for preset in list_presets()]
    if name not in names:
        raise StartError(
            _("{name} is not a preset of this nnplay; presets: {names}").format(
                name=quoted(name), names=", ".join(names)
            )
        )


def check_experiment(text: str) -> None:
    """Raise StartError unless `text` is an experiment string whose settings can be run."""
    from nnplay.engine.core.config import ConfigError, validate
    from nnplay.engine.core.share import decode

    if not EXPERIMENT_TEXT.fullmatch(text):
        raise StartError(
            _(
                "{text} is not an experiment string: one holds only letters, digits, '.', '_' and '-' "
                "(copy the whole line that `nnplay share` printed)"
            ).format(text=quoted(text))
        )
    try:
        validate(decode(text))
    except ConfigError as exc:
        raise StartError(_("the experiment's settings cannot be run: {problem}").format(problem=exc)) from None
    except ValueError as exc:  # share.ShareError: damaged, truncated, or from a newer nnplay
        raise StartError(str(exc)) from None


def tab_start(query: Mapping[str, str], default_preset: str | None = None) -> tuple[str, str] | None:
    """What a tab's app opens: ("experiment", STRING), ("preset", NAME), or None for the app's own
    start; from the page's query, else the server's --preset. Raises StartError for a bad value."""
    given = [name for name in START_OPTIONS if name in query]
    if len(given) > 1:
        raise StartError(_("a link opens one experiment: give ?experiment= or ?preset=, not both"))
    if not given:
        return ("preset", default_preset) if default_preset else None
    name, value = given[0], query[given[0]]
    (check_experiment if name == "experiment" else check_preset)(value)
    return name, value


def tab_language(query: Mapping[str, str], default: str) -> str:
    """The language a tab's app speaks: the page's ?lang= (a language nnplay speaks, else StartError),
    else `default`, the server's."""
    if LANGUAGE_OPTION not in query:
        return default
    code = query[LANGUAGE_OPTION]
    if code not in LANGUAGES:
        raise StartError(
            _("?lang={value} is not a language nnplay speaks; allowed: {allowed}").format(
                value=quoted(code), allowed=", ".join(LANGUAGES)
            )
        )
    return code


@contextmanager
def speaking(language: str) -> Iterator[None]:
    """Speak `language` inside the block, then the server's own language again: a page answers in the
    language its link names. Nothing inside awaits, so no other request hears it."""
    previous = current_language()
    set_language(language)
    try:
        yield
    finally:
        set_language(previous)


def app_command(start: tuple[str, str] | None, runs: str | None = None, language: str | None = None) -> list[str]:
    """The argument list that starts one tab's app, speaking `language`; `--name=value` in one item, so that
    no value can be read as another option."""
    command = [sys.executable, "-m", "nnplay.tui.cli"]
    if language:
        command.append(f"--lang={language}")
    if runs:
        command.append(f"--runs={runs}")
    if start is not None:
        command.append(f"--{start[0]}={start[1]}")
    return command


def marked_processes(marker: str) -> list[int]:
    """The processes whose environment carries MARKER=marker (Linux's /proc; none elsewhere)."""
    entry = f"{MARKER}={marker}".encode()
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if entry in (proc / "environ").read_bytes().split(b"\0"):
                found.append(int(proc.name))
        except (OSError, ValueError):  # gone meanwhile, or another user's
            continue
    return [pid for pid in found if pid != os.getpid()]


def signal_marked(marker: str, signum: int) -> list[int]:
    """Send `signum` to every process carrying the marker; returns their ids."""
    pids = marked_processes(marker)
    for pid in pids:
        try:
            os.kill(pid, signum)
        except OSError:  # exited meanwhile
            pass
    return pids


async def end_marked(marker: str, grace: float = KILL_GRACE_S) -> None:
    """End every process still carrying the marker: SIGTERM (an engine stops its run cleanly on it, an
    app quits), then SIGKILL what is left after `grace` seconds."""
    if not signal_marked(marker, signal.SIGTERM):
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    while marked_processes(marker) and loop.time() < deadline:
        await asyncio.sleep(0.1)
    signal_marked(marker, signal.SIGKILL)


def is_local(host: str) -> bool:
    """Whether every address `host` names is this machine's loopback; raises OSError for an unknown name."""
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return all(ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_loopback for info in infos)


def page_url(host: str, port: int) -> str:
    """The address to open; for a server on every interface, this machine's address on its network."""
    if host in ("0.0.0.0", "::", ""):
        host = _network_address() or socket.gethostname()
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def _network_address() -> str | None:
    """This machine's address on the network its default route leads to (a UDP connect sends nothing)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never reached, only routed
            return str(probe.getsockname()[0])
    except OSError:
        return None


def _page_template(name: str) -> str | None:
    """textual-serve's page without its Google Fonts link (a classroom may be offline, and the page
    names a monospace fallback), and with a title."""
    if name != PAGE:
        return None
    text = (Path(textual_serve.__file__).parent / "templates" / PAGE).read_text(encoding="utf-8")
    text = GOOGLE_FONTS.sub("", text, count=1)
    return text.replace("<head>", "<head>\n    <title>{{ application.name }}</title>", 1)


def error_page(problem: str) -> str:
    """A page that says, in one sentence, why a link cannot be opened."""
    sentence = _("This link cannot be opened: {problem}").format(problem=problem)
    return (
        f'<!DOCTYPE html><html lang="{current_language()}"><head><meta charset="utf-8"><title>nnplay</title></head>'
        '<body style="background:#0c181f;color:#eee;font:20px monospace;padding:2em">'
        f"<p>{html.escape(sentence)}</p>"
        f'<p><a style="color:#8cf" href="/">{html.escape(_("Open nnplay without it"))}</a></p></body></html>'
    )


def refusal(problem: str) -> web.Response:
    """The answer to a link that cannot be opened: the error page, status 400."""
    return web.Response(status=400, text=error_page(problem), content_type="text/html")


class TabApp(AppService):
    """One tab's app: started from an argument list (not a shell) with the server's marker, in a
    session of its own (a Ctrl+C on the server's terminal reaches the server, which ends the apps)."""

    def __init__(self, command: list[str], marker: str, **kwargs: Any) -> None:
        super().__init__(" ".join(command), **kwargs)
        self.argv = command
        self.marker = marker
        self._stopping: asyncio.Future[None] | None = None

    async def _open_app_process(self, width: int = 80, height: int = 24) -> asyncio.subprocess.Process:
        environment = {**self._build_environment(width=width, height=height), MARKER: self.marker}
        self._process = process = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=environment,
            start_new_session=True,
        )
        assert process.stdin is not None  # a pipe
        self._stdin = process.stdin
        return process

    async def stop(self) -> None:
        """Ask the app to quit (it ends its engine), and kill it if it has not within APP_QUIT_TIMEOUT_S.
        Called by the tab's handler and by the server's shutdown: the second call waits for the first."""
        if self._stopping is None:
            self._stopping = asyncio.ensure_future(self._stop())
        await asyncio.shield(self._stopping)

    async def _stop(self) -> None:
        try:
            await asyncio.wait_for(super().stop(), APP_QUIT_TIMEOUT_S)
        except TimeoutError:
            log.warning(_("an app did not quit within {seconds:g} s; killing it").format(seconds=APP_QUIT_TIMEOUT_S))
        process = self._process
        if process is not None and process.returncode is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)  # its own session: the group is its id
            except OSError:
                pass
            await process.wait()


class WebServer(Server):
    """textual-serve's server for the nnplay app: one app per tab, started on the tab's experiment."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        runs: str | None,
        preset: str | None,
        font_size: int,
        console: Console | None = None,
    ) -> None:
        super().__init__("nnplay", host=host, port=port, title="nnplay")
        self.runs = runs
        self.default_preset = preset
        self.font_size = font_size
        self.language = current_language()  # every tab's, unless its link names another
        if console is not None:
            self.console = console
        self.marker = f"{os.getpid()}-{uuid.uuid4().hex}"
        self.tabs: set[TabApp] = set()
        self.sockets: set[web.WebSocketResponse] = set()
        self.exit_requests = 0

    def initialize_logging(self) -> None:
        """textual-serve's log handler, at warnings: no line per request on the teacher's terminal."""
        super().initialize_logging()
        logging.getLogger().setLevel(logging.DEBUG if self.debug else logging.WARNING)

    async def _make_app(self) -> web.Application:
        app = web.Application()
        aiohttp_jinja2.setup(app, loader=jinja2.FunctionLoader(_page_template), autoescape=True)
        app.add_routes(
            [
                web.get("/", self.handle_index, name="index"),
                web.get("/ws", self.handle_websocket, name="websocket"),
                web.get("/ws/{option}/{value}", self.handle_websocket),  # option: experiment, preset or lang
                web.get("/ws/lang/{lang}/{option}/{value}", self.handle_websocket),
                web.get("/download/{key}", self.handle_download, name="download"),
                web.static("/static", self.statics_path, name="static"),
            ]
        )
        app.on_shutdown.append(self.on_shutdown)
        return app

    async def handle_index(self, request: web.Request) -> web.Response:
        """The page, its websocket's path carrying the tab's checked language, experiment or preset; a bad
        one gets a page that says why (in the link's language when that one is good)."""
        try:
            language = tab_language(request.query, self.language)
        except StartError as exc:
            return refusal(str(exc))
        with speaking(language):
            try:
                start = tab_start(request.query, self.default_preset)
            except StartError as exc:
                return refusal(str(exc))
        font_size = to_int(request.query.get("fontsize", ""), self.font_size)
        path = "/ws"
        if LANGUAGE_OPTION in request.query:
            path += f"/{LANGUAGE_OPTION}/{language}"
        if start is not None:
            path += f"/{start[0]}/{quote(start[1], safe='')}"
        scheme = "wss" if request.secure else "ws"
        context = {
            "font_size": font_size if font_size in FONT_SIZES else self.font_size,
            "app_websocket_url": f"{scheme}://{request.host}{path}",  # the address the browser used
            "config": {"static": {"url": "/static/"}},
            "application": {"name": self.title},
        }
        return aiohttp_jinja2.render_template(PAGE, request, context)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """One tab: its own app, started in the language and on the experiment or preset in the websocket's
        path (checked again here: anyone may open a websocket)."""
        option = request.match_info.get("option")
        chosen = request.match_info.get("lang")
        if option == LANGUAGE_OPTION and chosen is None:  # /ws/lang/ko: the language alone
            option, chosen = None, request.match_info["value"]
        if option is not None and option not in START_OPTIONS:
            raise web.HTTPNotFound()
        try:
            language = tab_language({LANGUAGE_OPTION: chosen} if chosen is not None else {}, self.language)
            start = tab_start({option: request.match_info["value"]} if option else {}, self.default_preset)
        except StartError as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        websocket = web.WebSocketResponse(heartbeat=15)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        tab = TabApp(
            app_command(start, self.runs, language),
            self.marker,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=websocket.close,
            download_manager=self.download_manager,
            debug=self.debug,
        )
        self.sockets.add(websocket)
        self.tabs.add(tab)
        try:
            await websocket.prepare(request)
            await tab.start(width, height)
            await self._process_messages(websocket, tab)
        except asyncio.CancelledError:
            pass
        except Exception as error:  # a tab's trouble is logged; the server and the other tabs go on
            log.exception(error)
        finally:
            await tab.stop()
            await websocket.close()
            self.tabs.discard(tab)
            self.sockets.discard(websocket)
        return websocket

    async def on_shutdown(self, app: web.Application) -> None:
        """Every app quits (each ends its engine, a run in progress stops cleanly); then whatever still
        carries the marker ends."""
        if self.tabs:
            stopping = _("stopping {count} app(s) and their engines…").format(count=len(self.tabs))
            self.console.print(Text(stopping, style="dim"))
        await asyncio.gather(*(tab.stop() for tab in list(self.tabs)), return_exceptions=True)
        for websocket in list(self.sockets):
            await websocket.close(code=WSCloseCode.GOING_AWAY, message=b"the nnplay server stopped")
        await end_marked(self.marker)

    def request_exit(self) -> None:
        """The first Ctrl+C or SIGTERM stops the server cleanly; another kills what it started, at once."""
        self.exit_requests += 1
        if self.exit_requests == 1:
            raise GracefulExit()
        signal_marked(self.marker, signal.SIGKILL)

    def announce(self, *_unused: Any) -> None:
        """Once listening: where to point the browser, and how to stop."""
        url = page_url(self.host, self.port)
        opening = _("nnplay web: open [bold]{url}[/bold] (each browser tab runs its own app)").format(url=escape(url))
        self.console.print(Text.from_markup(opening), soft_wrap=True)
        links = _("Links: {url}?experiment=STRING (from `nnplay share`) or {url}?preset=NAME. Ctrl+C stops every app.")
        self.console.print(Text(links.format(url=url)), soft_wrap=True)

    def serve(self, debug: bool = False) -> None:
        """Serve until Ctrl+C or SIGTERM; raises StartError when the address cannot be listened on."""
        self.debug = debug
        self.initialize_logging()
        loop = asyncio.new_event_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self.request_exit)
        try:
            web.run_app(
                self._make_app(),
                host=self.host,
                port=self.port,
                handle_signals=False,
                loop=loop,
                print=self.announce,
                access_log=None,
                shutdown_timeout=APP_QUIT_TIMEOUT_S + 2 * KILL_GRACE_S,
            )
        except OSError as exc:
            raise StartError(listen_problem(self.host, self.port, exc)) from None


def listen_problem(host: str, port: int, exc: OSError) -> str:
    """Why the server cannot listen on host:port, in one sentence."""
    if exc.errno == errno.EADDRINUSE:
        return _("port {port} on {host} is in use (another nnplay web?); choose another with --port").format(
            port=port, host=host
        )
    if exc.errno == errno.EACCES:
        return _("port {port} needs administrator rights; choose one from 1024 to 65535 with --port").format(port=port)
    return _("cannot listen on {host}:{port}: {reason}").format(host=host, port=port, reason=exc.strerror or exc)


def serve(
    host: str, port: int, *, runs: str | None, preset: str | None, font_size: int, console: Console | None = None
) -> int:
    """`nnplay web`: serve the app until Ctrl+C; returns the exit code. Raises StartError (a ValueError)
    for a bad option, an unknown host or a busy port."""
    console = console or Console(highlight=False)
    if not 0 < port < 65536:
        raise StartError(_("--port {port} is not a port number; ports go from 1 to 65535").format(port=port))
    if font_size not in FONT_SIZES:
        raise StartError(
            _("--font-size {size} is out of range; use {low} to {high} pixels").format(
                size=font_size, low=FONT_SIZES[0], high=FONT_SIZES[-1]
            )
        )
    if preset is not None:
        check_preset(preset)
    try:
        local = is_local(host)
    except OSError:
        raise StartError(
            _("--host {host} is neither an address nor a name this machine knows").format(host=quoted(host))
        ) from None
    if not local:
        Console(stderr=True, highlight=False).print(
            Text(
                _(
                    "warning: listening on {host}:{port}: anyone who can reach this port can run training on this machine"
                ).format(host=host, port=port),
                style="yellow",
            ),
            soft_wrap=True,
        )
    WebServer(host, port, runs=runs, preset=preset, font_size=font_size, console=console).serve()
    return 0
