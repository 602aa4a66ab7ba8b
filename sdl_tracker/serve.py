"""`sdl-tracker serve`: gunicorn with threads, sane timeouts and an access log, and the job worker alongside."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from typing import Any

import click
from flask import Flask

from .app import create_app
from .commands import say

log = logging.getLogger(__name__)

# A worker that dies is started again after a delay that doubles on each quick death (a bad setting,
# an unreachable database) up to the cap, and starts over once a worker has run for a while.
RESTART_DELAY_FIRST = 2.0
RESTART_DELAY_CAP = 60.0
HEALTHY_RUN_SECONDS = 60.0


def default_workers() -> int:
    """Gunicorn's rule of thumb (two per core plus one), capped: each process holds its own app."""
    return min(2 * (os.cpu_count() or 1) + 1, 8)


class JobWorkerSupervisor:
    """Runs one `sdl-tracker worker` beside the web server, restarts it when it dies, stops it at exit.

    One, not one per web worker: on SQLite jobs run one at a time, and the embedded default must
    still need a single command. It lives in gunicorn's master process.
    """

    def __init__(self, command: list[str]) -> None:
        self.command = command
        self.process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="job-worker-supervisor", daemon=True)

    def start(self) -> None:
        """Start the worker and keep it running."""
        self._thread.start()

    def _run(self) -> None:
        delay = RESTART_DELAY_FIRST
        while not self._stopping.is_set():
            started = time.monotonic()
            self.process = subprocess.Popen(self.command)
            code = self.process.wait()
            if self._stopping.is_set():
                return
            delay = next_restart_delay(delay, time.monotonic() - started)
            log.warning("the job worker exited with %s; starting it again in %.0f s", code, delay)
            self._stopping.wait(delay)

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the worker to finish its current step and stop; kill it if it does not."""
        self._stopping.set()
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def next_restart_delay(previous: float, ran_seconds: float) -> float:
    """How long to wait before starting a worker that has just died after running `ran_seconds`."""
    if ran_seconds >= HEALTHY_RUN_SECONDS:
        return RESTART_DELAY_FIRST
    return min(previous * 2, RESTART_DELAY_CAP)


def gunicorn_options(host: str, port: int, workers: int, threads: int, timeout: int) -> dict[str, Any]:
    """The gunicorn settings `serve` uses."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        # A web process silent this long is restarted (gunicorn's heartbeat; with threads it does not
        # cut a single slow request short: the database's lock timeouts and jobs bound the work).
        "timeout": timeout,
        "graceful_timeout": 30,
        "keepalive": 5,
        "accesslog": "-",
        "errorlog": "-",
        "access_log_format": '%(h)s "%(r)s" %(s)s %(b)s %(M)sms',
        "proc_name": "sdl-tracker",
        # gunicorn's control socket would be one path in the home folder shared by every instance.
        "control_socket_disable": True,
    }


def run_gunicorn(options: dict[str, Any], supervisor: JobWorkerSupervisor | None) -> None:
    """Serve `create_app()` with gunicorn until it is stopped."""
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)
            if supervisor is not None:
                self.cfg.set("on_starting", lambda _arbiter: supervisor.start())
                self.cfg.set("on_exit", lambda _arbiter: supervisor.stop())

        def load(self) -> Flask:
            return create_app()

    Server().run()


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", type=click.IntRange(1, 64), help="Web processes (default: 2 per core plus 1, at most 8).")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64), help="Threads per process.")
@click.option(
    "--timeout",
    default=120,
    show_default=True,
    type=click.IntRange(5, 3600),
    help="Seconds a web process may stay silent before it is restarted.",
)
@click.option(
    "--job-worker/--no-job-worker",
    default=True,
    show_default=True,
    help="Run one job worker alongside (turn off when workers run elsewhere).",
)
def serve(host: str, port: int, workers: int | None, threads: int, timeout: int, job_worker: bool) -> None:
    """Serve the tracker with gunicorn, and run the job worker alongside."""
    options = gunicorn_options(host, port, workers or default_workers(), threads, timeout)
    supervisor = JobWorkerSupervisor([sys.executable, "-m", "sdl_tracker", "worker"]) if job_worker else None
    say(f"serving on http://{host}:{port}/ ({options['workers']} processes, {threads} threads each)", err=True)
    run_gunicorn(options, supervisor)
