"""Commands that run many swaps or serve them: batch, serve."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from facedub.cli.app import app, path_argument, path_option
from facedub.cli.terminal import (
    InterruptedWith,
    RichProgress,
    say,
    terminate_cleanly,
    user_errors,
)
from facedub.errors import FacedubError
from facedub.fsutil import check_writable_output


@app.command("batch")
@user_errors
def batch_command(
    jobs_file: Annotated[Path, path_argument(
        # Brackets escaped: the help is rendered as rich markup.
        help="TOML jobs file: \\[defaults] and one \\[\\[job]] (source, target, output, "
             "any swap option) per swap.", metavar="JOBS")],
    out: Annotated[Path, path_option("--out", "-o", help="Output folder (resumed if it "
                                                          "holds an earlier batch).")],
    workers: Annotated[int, typer.Option(help="Jobs at once on this machine (local pool, "
                                              "or a local Ray).")] = 1,
    cluster: Annotated[str | None, typer.Option(
        help="'ray': run the jobs as Ray tasks (pip install 'facedub\\[cluster]').")] = None,
    address: Annotated[str | None, typer.Option(
        help="Ray cluster address (e.g. 10.0.0.5:6379 or 'auto'); default: start Ray "
             "here.")] = None,
    cpus_per_job: Annotated[float, typer.Option(help="CPUs each Ray task asks for.")] = 1.0,
    retries: Annotated[int, typer.Option(
        help="Times a job lost with its worker process is run again.")] = 2,
    work_dir: Annotated[Path | None, path_option(
        help="Where analyses are cached (default $FACEDUB_WORK_DIR or ~/.cache/facedub/work)"
             "; on a cluster, a folder every node reaches at the same path.")] = None,
) -> None:
    """Run many swaps from a jobs file; the same command resumes, skipping finished jobs.

    Exit code 0: every job done; 1: some failed (each named); 2: a bad jobs file.
    """
    from facedub.batch import BatchConfig, load_jobs
    from facedub.batch import batch as run_batch
    from facedub.locations import config_dir
    from facedub.locations import work_dir as default_work_dir

    config = BatchConfig(work_dir=(work_dir or default_work_dir()).absolute(),
                         config_dir=config_dir().absolute(), workers=workers,
                         cluster=cluster or "local",  # type: ignore[arg-type]
                         address=address, cpus_per_job=cpus_per_job, max_retries=retries)
    # Before the jobs: -o naming a file failed on creating the folder, as "FILE: File
    # exists; nothing was written, run the same command again once that is fixed".
    check_writable_output(out, "-o", folder=True)
    jobs = load_jobs(jobs_file, out)
    # SIGTERM and SIGHUP as Ctrl-C: the workers are ended and the staging removed (killed
    # outright, the driver left its workers swapping on, orphaned).
    with terminate_cleanly():
        result = run_batch(jobs, out, config, RichProgress(unit="frames"), say=say)
    for line in result.summary_lines():
        typer.echo(line)
    raise typer.Exit(result.exit_code)


@app.command()
@user_errors
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on; any but 127.0.0.1 / "
                                           "localhost needs a token.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 7860,
    token: Annotated[str | None, typer.Option(
        help="Token the page and API ask for (default: none on 127.0.0.1, else one is "
             "generated and printed).")] = None,
    work_dir: Annotated[Path | None, path_option(
        help="The app's work folder: uploads, results, reports, the job database "
             "(default: serve/ in $FACEDUB_WORK_DIR or ~/.cache/facedub/work).")] = None,
    max_upload: Annotated[int, typer.Option(help="Largest upload, MB.")] = 512,
    media: Annotated[Path | None, path_option(
        help="A folder of photos, videos, photo folders or facesets to pick from in the "
             "page (besides uploads).")] = None,
) -> None:
    """A local web app: swap files with a preview and a job queue, or a live camera."""
    from facedub.locations import config_dir
    from facedub.locations import work_dir as default_work_dir
    from facedub.serve import serve as run_server

    folder = work_dir or default_work_dir() / "serve"
    check_writable_output(folder, "--work-dir", folder=True, parents=True)
    if max_upload < 1:
        raise FacedubError("--max-upload must be at least 1 (MB)")
    # uvicorn stops on SIGINT and SIGTERM itself, then raises the signal again with the
    # handlers it found: here SIGTERM and SIGHUP become one line and 143/129 (they killed
    # the process silently, -15), and Ctrl-C, which uvicorn.run swallows, 130.
    with terminate_cleanly():
        run_server(folder, config_dir(), host=host, port=port, token=token, say=say,
                   max_upload=max_upload * 1024 * 1024, media=media)
    # The server returns only once Ctrl-C has stopped it. "run the same command again to
    # resume" was every command's line; a server resumes nothing of its own.
    raise InterruptedWith(SERVER_STOPPED)


SERVER_STOPPED = ("stopped; the same command again serves this work folder and runs the "
                  "jobs still queued")
