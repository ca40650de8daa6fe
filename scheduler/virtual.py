"""The scheduler on a virtual clock, for the simulator: no wall time, no APScheduler.

`advance(to)` runs, in time order, every job planned after the previous `advance` up to
`to`, each at its own virtual time, through the same `run_job` the real scheduler calls.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from core.catalogue import Catalogue
from core.chat import Notifier
from core.schedule import Job
from scheduler.jobs import planned, run_job
from storage import Database


class VirtualScheduler:
    def __init__(
        self,
        catalogue: Catalogue,
        db: Database,
        notifiers: Sequence[Notifier],
        set_clock: Callable[[datetime], None] = lambda _: None,
        files_dir: Path | None = None,
    ) -> None:
        self.files_dir = files_dir
        self.catalogue = catalogue
        self.db = db
        self.notifiers = notifiers
        self.set_clock = set_clock  # lets the simulator stamp posts with the job's time
        self.last: datetime | None = None

    async def advance(self, to: datetime) -> list[Job]:
        """Run the jobs with `last < at <= to`; the first call only sets the start."""
        if self.last is None:
            self.last = to
            return []
        ran = []
        for job in planned(self.catalogue, self.last, to):
            self.set_clock(job.at)
            await run_job(self.catalogue, self.db, self.notifiers, job, job.at, self.files_dir)
            ran.append(job)
        self.last = max(self.last, to)
        return ran
