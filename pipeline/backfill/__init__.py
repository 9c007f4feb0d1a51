"""Re-run a pipeline stage over a filtered part of the library (`manage.py backfill`).

- **Streaming.** Photos are read in id order, one keyset-paginated batch at a time, so memory
  stays flat however large the library is.
- **Resumable.** After each batch a checkpoint (the last id done and the counters) is written
  atomically (temporary file, fsync, rename). Within a batch, each finished photo is appended to
  a journal as it completes, so a run killed mid-batch (Ctrl-C, SIGKILL) resumes after the last
  photo it finished and does none twice.
- **Idempotent.** Every per-photo step is a service that no-ops when the photo is not where it
  expects it, and nothing here overrides a curator's decision: the status transitions refuse
  to, and photos a curator decided are skipped before anything is sent.

`plan`: what each stage does to a photo, and the dry run; `checkpoint`: the checkpoint and its
journal; `run`: the run loop (`backfill_run`).
"""
