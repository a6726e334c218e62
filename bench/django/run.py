"""Runs the Django peer of scripts/bench: redis-server on a free port, then
Django's migrations into a SQLite file under --scratch, then gunicorn on
--addr. Run it with .venv-django/bin/python (bench/django/install.sh).

    run.py --addr 127.0.0.1:PORT --scratch DIR --outbox FILE

SIGTERM or SIGINT stops gunicorn and redis and exits 0; if either dies on
its own, the other is stopped and this exits 1. JWT_SECRET and
DJANGO_SECRET_KEY come from the environment, or are drawn at random for
this run; neither is ever printed. Only stderr is written to.
"""

import argparse
import ctypes
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# One sync worker per core of the 2-core benchmark machine, as the original
# ran gunicorn/uwsgi with workers = cores.
WORKERS = 2

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def say(message):
    print(f"run.py: {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def die_with_parent():
    """In the child before exec: SIGTERM when this process dies, even by
    SIGKILL, so that no redis or gunicorn outlives it."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Stop(Exception):
    """A stop signal arrived, or the process that started this one died."""


class Supervisor:
    def __init__(self):
        self.children = []  # (name, Popen, stop signal), in start order
        self.stopping = False
        self.parent = os.getppid()
        for signum in STOP_SIGNALS:
            signal.signal(signum, self.on_signal)

    def on_signal(self, signum, frame):
        self.stopping = True

    def check(self):
        """Raises Stop when asked to stop, and exits 1 when a child died."""
        if self.stopping or os.getppid() != self.parent:
            raise Stop()
        for name, child, _ in self.children:
            code = child.poll()
            if code is not None:
                say(f"{name} exited with status {code}")
                self.stop_all()
                sys.exit(1)

    def start(self, name, argv, env, stop_signal=signal.SIGTERM):
        child = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=sys.stderr, preexec_fn=die_with_parent)
        self.children.append((name, child, stop_signal))
        return child

    def stop_all(self):
        # Gunicorn first: its workers may still be talking to redis.
        for name, child, stop_signal in reversed(self.children):
            if child.poll() is None:
                child.send_signal(stop_signal)
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    say(f"{name} did not stop within 10 s: killed")
                    child.kill()
                    child.wait()


def wait_for_redis(supervisor, port, timeout=10.0):
    import redis

    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        supervisor.check()
        try:
            if client.ping():
                return
        except redis.exceptions.ConnectionError:
            time.sleep(0.02)
    raise SystemExit(f"run.py: redis did not answer on port {port} within {timeout} s")


def migrate(supervisor, env):
    """Django's own migrations (auth, contenttypes) into the fresh database."""
    argv = [sys.executable, "-m", "django", "migrate", "--noinput", "--verbosity", "0"]
    migration = subprocess.Popen(argv, env=env, cwd=HERE, stdin=subprocess.DEVNULL, stdout=sys.stderr)
    while migration.poll() is None:
        try:
            supervisor.check()
        except Stop:
            migration.terminate()
            migration.wait()
            raise
        time.sleep(0.05)
    if migration.returncode != 0:
        raise SystemExit(f"run.py: migrations failed with status {migration.returncode}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addr", required=True, help="127.0.0.1:PORT for gunicorn")
    parser.add_argument("--scratch", required=True, type=Path, help="directory for the SQLite database")
    parser.add_argument("--outbox", required=True, type=Path, help="file the SMS codes are appended to")
    args = parser.parse_args()
    args.scratch.mkdir(parents=True, exist_ok=True)

    redis_port = free_port()
    env = dict(os.environ)
    env.setdefault("JWT_SECRET", secrets.token_urlsafe(48))
    env.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(48))
    env.update(
        DJANGO_SETTINGS_MODULE="peer.settings",
        PYTHONPATH=str(HERE),
        DJANGO_SCRATCH=str(args.scratch.resolve()),
        SMS_OUTBOX_FILE=str(args.outbox.resolve()),
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
    )

    supervisor = Supervisor()
    try:
        supervisor.start(
            "redis-server",
            ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no", "--loglevel", "warning"],
            env,
        )
        wait_for_redis(supervisor, redis_port)
        migrate(supervisor, env)
        supervisor.check()
        # No access log (gunicorn's default), warnings and errors to stderr.
        gunicorn = [sys.executable, "-m", "gunicorn", "--chdir", str(HERE), "--bind", args.addr]
        gunicorn += ["--workers", str(WORKERS), "--worker-class", "sync"]
        gunicorn += ["--graceful-timeout", "5", "--log-level", "warning", "peer.wsgi:application"]
        # SIGINT is gunicorn's quick shutdown: the load is over by the time
        # we are asked to stop, and SIGTERM's graceful one takes seconds.
        supervisor.start("gunicorn", gunicorn, env, stop_signal=signal.SIGINT)
        while True:
            supervisor.check()
            time.sleep(0.1)
    except Stop:
        supervisor.stop_all()
    except BaseException:
        supervisor.stop_all()
        raise


if __name__ == "__main__":
    main()
