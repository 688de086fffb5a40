# gunicorn settings for pbvote: `gunicorn -c config/gunicorn.conf.py pbvote.wsgi:app`.
# Everything can be set from the environment so tests, benchmarks and deployments share it.
import os

#: loopback by default; a reverse proxy in front terminates TLS
bind = os.environ.get("PBVOTE_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("PBVOTE_WORKERS", "2"))
# gthread keeps HTTP/1.1 connections alive (sync workers close after each request).
worker_class = os.environ.get("PBVOTE_WORKER_CLASS", "gthread")
threads = int(os.environ.get("PBVOTE_THREADS", "2"))
# Off: each worker builds its own app and database pool, so nothing is shared across a fork.
# The SIGKILL test turns it on only to restart 20 times faster (no database is touched
# while the app is built, so no connection crosses the fork either way).
preload_app = os.environ.get("PBVOTE_PRELOAD", "0") == "1"
keepalive = 5
timeout = int(os.environ.get("PBVOTE_WORKER_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("PBVOTE_GRACEFUL_TIMEOUT", "20"))
backlog = 512
accesslog = os.environ.get("PBVOTE_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("PBVOTE_LOG_LEVEL", "warning")
proc_name = "pbvote"


def on_starting(server):
    """Tell the app how many workers will serve it (the workers fork from here and inherit
    it), so that production refuses per-process rate limits with more than one."""
    os.environ["PBVOTE_WORKERS"] = str(server.cfg.workers)


if os.environ.get("PBVOTE_LOG_FORMAT") == "json":
    # gunicorn's own lines as JSON too (pbvote/infra/logs.py formats the app's)
    logconfig_dict = {
        "version": 1, "disable_existing_loggers": False,
        "formatters": {"json": {"()": "pbvote.infra.logs.json_formatter"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json",
                                "stream": "ext://sys.stderr"}},
        "root": {"level": "INFO", "handlers": ["stderr"]},
        "loggers": {"gunicorn.error": {"handlers": ["stderr"], "level": "INFO",
                                       "propagate": False},
                    "gunicorn.access": {"handlers": ["stderr"], "level": "INFO",
                                        "propagate": False}},
    }


def child_exit(server, worker):
    # Prometheus multiprocess mode (PROMETHEUS_MULTIPROC_DIR): drop an exited worker's live
    # gauges; its counters stay in the totals.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
