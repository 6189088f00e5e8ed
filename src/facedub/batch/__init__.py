"""batch: many swaps from a jobs file, on a local process pool or a Ray cluster, resumable
through a manifest in the output folder; long videos can be swapped in chunks."""

from facedub.batch.jobs import Jobs, JobSpec, load_jobs
from facedub.batch.run import BatchConfig, BatchResult, JobReport, batch

__all__ = ["BatchConfig", "BatchResult", "JobReport", "JobSpec", "Jobs", "batch", "load_jobs"]
