"""gunicorn settings: `gunicorn -c gunicorn.conf.py 'sender_service.app:create_app()'`.

Logs go through Replyline's one logging setup (JSON lines, secrets redacted).

Metrics: with `PROMETHEUS_MULTIPROC_DIR` set (one directory, shared with the `replyline worker`
processes on this machine; `deploy/systemd/` puts it under /run, emptied at boot), every
process's counters are summed at scrape time. `METRICS_BIND=host:port` makes the master serve
them there, with no token: bind it to an address only Prometheus reaches.
"""

import os

from sender_service.logs import dict_config

logconfig_dict = dict_config()


def when_ready(server):
    bind = os.environ.get("METRICS_BIND", "").strip()
    if not bind:
        return
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip():
        raise RuntimeError("METRICS_BIND needs PROMETHEUS_MULTIPROC_DIR (the workers' metrics)")
    from prometheus_client import start_http_server

    from sender_service.db.engine import resolve_database_url
    from sender_service.metrics import scrape_registry
    from sender_service.settings import load_settings

    registry = scrape_registry(resolve_database_url(), load_settings().warehouse_path)
    host, _, port = bind.rpartition(":")
    start_http_server(int(port), addr=host, registry=registry)
    server.log.info("metrics on http://%s/metrics", bind)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
