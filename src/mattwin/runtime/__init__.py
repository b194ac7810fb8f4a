"""Run tasks: look up the cache, run the rest, record every result the moment it finishes."""

from mattwin.runtime.jobs import Job, Outcome
from mattwin.runtime.runner import run_job, run_jobs

__all__ = ["Job", "Outcome", "run_job", "run_jobs"]
