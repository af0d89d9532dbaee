"""A consistent copy of a deployment's data, and putting it back.

`coforms backup DEST` copies, under the run lock (no run, admin action or review-desk decision
changes anything meanwhile): the warehouse (the DuckDB file, or a pg_dump of the PostgreSQL
database), the archive of originals, the mail ledger, the review desk's accounts, reply drafts,
finance's yearly voucher workbooks, the scans' pictures, and the settings without their secrets;
with a manifest of every file's size and SHA-256 (pipeline.backup.manifest).

`coforms restore SRC` checks all of it first and writes nothing from a damaged backup; then puts
it back into an empty outputs folder and rewrites the reports.

Modules: contents (what is kept, what is left out and why), manifest, containers (a backup is a
folder or a .tar file), warehouse_copy (DuckDB and PostgreSQL), locking (the run lock), make (backup),
restore, errors.
"""
