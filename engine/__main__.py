"""`python -m nnplay.engine [CONFIG.toml] [--set a.b=v]... [--runs DIR]` runs one experiment;
`python -m nnplay.engine serve [--runs DIR]` keeps torch loaded and answers requests.

Events go to stdout as JSON lines; control lines (pause, resume, stop) are read from stdin.
Without a config path the first stdin line is the config as JSON. See engine/PROTOCOL.md.

Exit codes: 0 finished (completed, early-stopped or stopped), 1 engine failure,
2 config error, 3 diverged.

The engine speaks the language of its environment (NNPLAY_LANG, then the locale); serve mode also
switches on the `language` command.
"""

from __future__ import annotations

import signal

# A Ctrl+C while Python is still loading the modules below is a request to stop, not a traceback: it is
# noted here and handed to the run's control once there is one (the CLI sends `stop` on stdin as well).
EARLY_INTERRUPTS: list[int] = []
signal.signal(signal.SIGINT, lambda signum, frame: EARLY_INTERRUPTS.append(signum))

import argparse  # noqa: E402 (after the handler above)
import json  # noqa: E402
import sys  # noqa: E402
import traceback  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TextIO  # noqa: E402

from nnplay.engine.core.config import ConfigError, ExperimentConfig, validate  # noqa: E402
from nnplay.engine.core.config_files import apply_overrides, load  # noqa: E402
from nnplay.engine.core.control import ControlReader, install_signal_handlers  # noqa: E402
from nnplay.engine.core.events import Emitter, RunFailed  # noqa: E402
from nnplay.engine.core.i18n import DEFAULT, LanguageError, _, resolve_language, set_language  # noqa: E402
from nnplay.engine.core.runs import RunStoreError, writable_runs_root  # noqa: E402

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_DIVERGED = 0, 1, 2, 3


def _read_config(args: argparse.Namespace, stdin: TextIO) -> ExperimentConfig:
    if args.config:
        return load(Path(args.config), args.set)
    line = stdin.readline()
    if not line.strip():
        raise ConfigError(_("no config given: pass a TOML path, or send the config as one JSON line on stdin"))
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            _("the config line on stdin is not JSON: {problem} at column {column}").format(
                problem=exc.msg, column=exc.colno
            )
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(_("the config line on stdin must be a JSON object"))
    return validate(apply_overrides(data, args.set))


def runs_dir_error(runs: str | None) -> str | None:
    """Why the runs directory (--runs, $NNPLAY_RUNS or ./runs) cannot hold runs, in one sentence; None when
    it can. Checked before torch is imported: a bad path is reported at once, not after seconds."""
    try:
        writable_runs_root(runs)
    except RunStoreError as exc:
        return str(exc)
    return None


def run_once(args: argparse.Namespace) -> int:
    """Run the one experiment the arguments or stdin name, reporting on stdout; returns the exit code."""
    emitter = Emitter(sys.stdout)
    try:
        config = _read_config(args, sys.stdin)
    except ConfigError as exc:
        emitter.emit("error", **exc.as_event_fields(), kind="config", traceback=None)
        return EXIT_CONFIG
    if (problem := runs_dir_error(args.runs)) is not None:
        emitter.emit("error", message=problem, kind="config", traceback=None)
        return EXIT_CONFIG
    reader = ControlReader(sys.stdin)
    install_signal_handlers(reader.control)  # before torch loads: a Ctrl+C from here on stops cleanly
    if EARLY_INTERRUPTS:
        reader.control.stop()
    reader.start()
    try:
        from nnplay.engine import experiment  # imports torch: after the config is known to be good

        summary = experiment.run(config, emitter, reader.control, args.runs, announce=True)
    except KeyboardInterrupt:  # a second Ctrl+C in a row: the run (if it began) is recorded as stopped
        return EXIT_OK
    except ConfigError as exc:
        emitter.emit("error", **exc.as_event_fields(), kind="config", traceback=None)
        return EXIT_CONFIG
    except RunFailed:  # already reported as an error event and recorded in the run
        return EXIT_FAILED
    except Exception as exc:
        emitter.emit("error", message=str(exc) or type(exc).__name__, kind="internal", traceback=traceback.format_exc())
        return EXIT_FAILED
    return EXIT_DIVERGED if summary["status"] == "diverged" else EXIT_OK


def speak_the_environments_language() -> str:
    """Speak the language NNPLAY_LANG or the locale names; returns it. A NNPLAY_LANG that names no language
    nnplay speaks means English here: the CLI and the app refuse it before they start the engine."""
    try:
        language = resolve_language()
    except LanguageError:
        language = DEFAULT
    set_language(language)
    return language


def main(argv: list[str] | None = None) -> int:
    """The command line: one run, or `serve`; returns the exit code."""
    speak_the_environments_language()
    parser = argparse.ArgumentParser(prog="python -m nnplay.engine", description=__doc__.split("\n")[0])
    parser.add_argument("config", nargs="?", help=_("experiment TOML file, or 'serve'"))
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help=_("override a config value"))
    parser.add_argument("--runs", default=None, help=_("runs directory (default ./runs or $NNPLAY_RUNS)"))
    args = parser.parse_args(argv)
    if args.config == "serve":
        if EARLY_INTERRUPTS:  # interrupted while starting: no engine is wanted
            return 130
        if (problem := runs_dir_error(args.runs)) is not None:
            # Before hello: a client learns at once, from the error and the exit code, that no engine came up.
            Emitter(sys.stdout).emit("error", message=problem, kind="config", traceback=None)
            return EXIT_CONFIG
        from nnplay.engine.serve import serve

        return serve(args.runs)
    return run_once(args)


if __name__ == "__main__":
    try:
        code = main()
    except KeyboardInterrupt:  # before any run began (Python still starting): nothing to keep
        code = 130
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the run is recorded: a late Ctrl+C must not kill the exit
    sys.exit(code)
