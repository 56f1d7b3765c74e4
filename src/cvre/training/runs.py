"""Training runs that die part-way: marked FAILED on the next start, and no registry alias moved by them.

A run records which process on which host started it; a later start marks the RUNNING runs whose process is
gone (killed, out of memory, power cut) and their nested trial runs FAILED. Alias and registry-tag writes made
during a run are held (`HeldAliases`) and applied only once the run has ended as FINISHED.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import UTC, datetime

from mlflow import MlflowClient

log = logging.getLogger(__name__)
PID_TAG, HOST_TAG, INTERRUPTED_TAG = "cvre.pid", "cvre.host", "cvre.interrupted"
PARENT_TAG = "mlflow.parentRunId"


def owner_tags() -> dict[str, str]:
    """Tags that say which process runs a run, so a later start can tell a dead run from a live one."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def _dead_here(tags: dict[str, str]) -> bool:
    """Started by a process on this host that no longer exists (a run of another host is left alone)."""
    pid = tags.get(PID_TAG, "")
    return tags.get(HOST_TAG) == socket.gethostname() and pid.isdigit() and not _alive(int(pid))


def mark_interrupted_runs(client: MlflowClient) -> list[str]:
    """Mark FAILED every RUNNING run whose process died, with its nested runs; returns their run ids."""
    experiments = [e.experiment_id for e in client.search_experiments()]
    if not experiments:
        return []
    running = client.search_runs(experiments, "attributes.status = 'RUNNING'", max_results=50_000)
    dead = {r.info.run_id for r in running if _dead_here(r.data.tags)}
    dead |= {r.info.run_id for r in running if r.data.tags.get(PARENT_TAG) in dead}
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    for run_id in sorted(dead):
        client.set_tag(run_id, INTERRUPTED_TAG, f"its process ended before the run did; marked FAILED at {stamp}")
        client.set_terminated(run_id, status="FAILED")
    if dead:
        log.warning("marked %d interrupted run(s) FAILED: %s", len(dead), ", ".join(sorted(dead)))
    return sorted(dead)


class HeldAliases:
    """A registry client whose alias and registered-model tag writes wait for `apply()`; reads go through.

    Handed to the promotion gate inside a run, so a run killed or failing after the gate leaves the registry's
    aliases (champion, challenger, rollback history) exactly as they were.
    """

    HELD = ("set_registered_model_alias", "delete_registered_model_alias", "set_registered_model_tag")

    def __init__(self, client: MlflowClient):
        self._client = client
        self.pending: list[tuple[str, tuple, dict]] = []

    def __getattr__(self, name: str):
        if name in self.HELD:
            return lambda *args, **kwargs: self.pending.append((name, args, kwargs))
        return getattr(self._client, name)

    def apply(self) -> None:
        """Make the held writes, in order (call once the run has ended as FINISHED)."""
        for name, args, kwargs in self.pending:
            getattr(self._client, name)(*args, **kwargs)
        self.pending.clear()
