"""Writes a chunk's outputs: curated Parquet per reading date, rejected rows, partial daily totals."""

from __future__ import annotations

import io
import json
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from tasks.adapters import lake_reader, s3_objects
from tasks.adapters.aws_clients import client
from tasks.domain import lake_layout, meter_shards, meter_sketch

PARQUET_COMPRESSION = "zstd"
# Row groups are what Athena (Trino) and DuckDB skip by their min/max statistics, and the unit of a read split.
# Rows are sorted by meter, channel and interval, so a group's meter_id range is narrow and a query for some
# meters skips the other groups. 1 Mi rows is ~8-12 MiB of zstd Parquet here (about 10 bytes a reading):
# large enough that a 128 MiB compacted object is a dozen groups (few requests per split, the size Athena
# reads well), small enough to skip by. Inside a group the page index (column index and offset index, ~1 MiB
# pages) lets readers that use it (Trino's parquet.use-column-index, DuckDB's filter pushdown) skip pages.
ROW_GROUP_ROWS = 1 << 20
# Partial totals are read by hash range, one shard at a time: groups of 8,192 meter-days (about 60 KB; a 24 MiB
# chunk's partial holds 2 of them sorted by meter, 70 sorted by time) let a shard of a million-meter file fetch
# about one group of each chunk, and keep the footer every shard reads under 40 KB.
PARTIAL_ROW_GROUP_ROWS = 8192
METER_SKETCH_METADATA = b"gridflow.meter_sketch"
CURATED_SORT = [("meter_id", "ascending"), ("channel", "ascending"), ("interval_start", "ascending")]


def parquet_bytes(table: pa.Table, metadata: dict[str, str] | None = None, sorted_rows: bool = False) -> bytes:
    """zstd Parquet with statistics and a page index; sorted_rows records CURATED_SORT in the footer."""
    if metadata:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **metadata})
    sorting = (pq.SortingColumn.from_ordering(table.schema, CURATED_SORT) if sorted_rows else None)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression=PARQUET_COMPRESSION, row_group_size=ROW_GROUP_ROWS,
                   write_statistics=True, write_page_index=True, sorting_columns=sorting)
    return sink.getvalue()


def sorted_readings(table: pa.Table) -> pa.Table:
    """Curated order; ties (the same interval from several files) by delivery, so the order is deterministic."""
    ties = [(name, "ascending") for name in ("ingested_at", "file_id", "source_line") if name in table.column_names]
    return table.sort_by(CURATED_SORT + ties)


def chunk_output_keys(feed: str, file_id: str, chunk_index: int, readings: pa.Table, rejected: pa.Table) -> list[str]:
    """Every lake object the chunk's writes will put: known once it is parsed, before the first write."""
    days = pc.unique(readings["reading_date"]).to_pylist() if readings.num_rows else []
    keys = [lake_layout.curated_key(feed, day.isoformat(), file_id, chunk_index) for day in days]
    return keys + ([lake_layout.rejected_key(feed, file_id, chunk_index)] if rejected.num_rows else [])


def write_curated(bucket: str, feed: str, file_id: str, chunk_index: int, readings: pa.Table) -> list[str]:
    """One Parquet object per reading date, at a key fixed by (file, chunk, date): a rerun overwrites."""
    keys = []
    if readings.num_rows == 0:
        return keys
    for reading_date in pc.unique(readings["reading_date"]).to_pylist():
        day = readings.filter(pc.equal(readings["reading_date"], reading_date)).drop_columns(["reading_date"])
        key = lake_layout.curated_key(feed, reading_date.isoformat(), file_id, chunk_index)
        s3_objects.put_bytes(bucket, key, parquet_bytes(sorted_readings(day), sorted_rows=True))
        keys.append(key)
    return keys


DELETE_BATCH = 1000  # DeleteObjects takes up to 1,000 keys a request


def write_compacted(bucket: str, key: str, readings: pa.Table, inputs: list[str]) -> int:
    """One compacted object: every column of its inputs' rows, sorted, its inputs and files in the footer.
    A single PUT, so a reader sees the whole object or none of it. Returns its size."""
    files = sorted(set(readings["file_id"].to_pylist()))
    document = json.dumps({"inputs": sorted(inputs), "files": files})
    data = parquet_bytes(sorted_readings(readings), {lake_reader.COMPACTION_METADATA.decode(): document},
                         sorted_rows=True)
    s3_objects.put_bytes(bucket, key, data)
    return len(data)


def delete_objects(bucket: str, keys: list[str]) -> None:
    """Delete these objects with as few requests as possible (the window in which a reader of the raw table
    sees a compacted object's rows twice is these requests)."""
    s3 = client("s3")
    for start in range(0, len(keys), DELETE_BATCH):
        batch = [{"Key": key} for key in keys[start:start + DELETE_BATCH]]
        response = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
        if response.get("Errors"):
            raise RuntimeError(f"could not delete {len(response['Errors'])} objects: {response['Errors'][0]}")


def remove_file_rows(bucket: str, key: str, file_id: str, only: pa.Table | None = None) -> int:
    """Rewrite a compacted object in place without this file's rows (or, with `only`, without those of its rows
    whose identity `only` lists): one PUT of the same key, so readers see the old object or the new one, never
    neither. An object left empty is deleted. Returns how many rows went."""
    table = lake_reader.read_parquet(bucket, key)
    mine = pc.equal(table["file_id"], pa.scalar(file_id))
    if only is not None and only.num_rows:
        identity = only.select(lake_reader.ROW_IDENTITY).group_by(lake_reader.ROW_IDENTITY).aggregate([])
        marked = table.append_column("_row", pa.array(range(table.num_rows), pa.int64()))
        hits = marked.filter(mine).join(identity, lake_reader.ROW_IDENTITY, join_type="left semi")["_row"]
        mine = pc.is_in(marked["_row"], value_set=hits.combine_chunks())
    elif only is not None:
        return 0
    kept = table.filter(pc.invert(mine))
    removed = table.num_rows - kept.num_rows
    if removed == 0:
        return 0
    if kept.num_rows == 0:
        s3_objects.delete(bucket, key)
        return removed
    metadata = json.loads((table.schema.metadata or {}).get(lake_reader.COMPACTION_METADATA, b"{}"))
    inputs = [name for name in metadata.get("inputs", []) if lake_layout.file_of(name) != file_id]
    write_compacted(bucket, key, kept.replace_schema_metadata(None), inputs)
    return removed


def write_rejected(bucket: str, feed: str, file_id: str, chunk_index: int, rejected: pa.Table) -> str | None:
    """The chunk's rejected rows with their rule and reason, as CSV a person can open."""
    if rejected.num_rows == 0:
        return None
    sink = io.BytesIO()
    pa_csv.write_csv(rejected, sink)
    key = lake_layout.rejected_key(feed, file_id, chunk_index)
    s3_objects.put_bytes(bucket, key, sink.getvalue(), "text/csv")
    return key


def write_partial_totals(bucket: str, file_id: str, chunk_index: int, partial: pa.Table) -> str:
    """Sorted by meter hash in small row groups, so that one aggregation shard reads only its own meters' groups
    (tasks.domain.meter_shards); the footer holds the chunk's meter sketch (tasks.domain.meter_sketch)."""
    key = lake_layout.partial_totals_key(file_id, chunk_index)
    hashes = meter_shards.hash_column(partial["meter_id"])
    table = partial.append_column("meter_hash", hashes).sort_by(
        [("meter_hash", "ascending"), ("meter_id", "ascending"), ("channel", "ascending"), ("day", "ascending")])
    sketch = meter_sketch.to_text(meter_sketch.sketch_of(hashes))
    sink = io.BytesIO()
    # Statistics of meter_hash only and no page index: every shard reads the footer.
    pq.write_table(table.replace_schema_metadata({METER_SKETCH_METADATA: sketch}), sink,
                   compression=PARQUET_COMPRESSION, row_group_size=PARTIAL_ROW_GROUP_ROWS,
                   write_statistics=["meter_hash"])
    s3_objects.put_bytes(bucket, key, sink.getvalue())
    return key


def _partial_keys(file_id: str, chunk_indexes: list[int]) -> list[str]:
    return [lake_layout.partial_totals_key(file_id, index) for index in sorted(chunk_indexes)]


def _read_partials(bucket: str, keys: list[str], hashes: tuple[int, int] | None) -> list[pa.Table]:
    """These partial-totals objects, in order; with `hashes` [low, high) only the rows of meters whose hash is in
    that range (one shard's), fetched row group by row group."""
    def read(key: str) -> pa.Table:
        if hashes is None:
            return lake_reader.read_parquet(bucket, key)
        return lake_reader.read_range_of(bucket, key, "meter_hash", *hashes)

    with ThreadPoolExecutor(lake_reader.READ_THREADS) as pool:
        return list(pool.map(read, keys))


def read_partial_totals(bucket: str, file_id: str, chunk_indexes: list[int],
                        hashes: tuple[int, int] | None = None) -> list[pa.Table]:
    """The partial totals of exactly these chunks (never a leftover of another attempt's plan), in chunk order;
    with `hashes`, one shard's rows."""
    return _read_partials(bucket, _partial_keys(file_id, chunk_indexes), hashes)


def meter_sketches(bucket: str, file_id: str, chunk_indexes: list[int]) -> list[list[int]]:
    """Each chunk's meter sketch, from the footers of its partial totals only."""
    def read(key: str) -> list[int]:
        return meter_sketch.from_text((lake_reader.read_footer_of(bucket, key).metadata or {})[METER_SKETCH_METADATA])

    with ThreadPoolExecutor(lake_reader.READ_THREADS) as pool:
        return list(pool.map(read, _partial_keys(file_id, chunk_indexes)))


def write_chunk_outputs(bucket: str, file_id: str, chunk_index: int, keys: list[str]) -> None:
    """Record which lake objects a chunk wrote, so a failed load can be taken back out."""
    s3_objects.put_json(bucket, lake_layout.chunk_outputs_key(file_id, chunk_index), {"keys": keys})


def written_outputs(bucket: str, file_id: str) -> list[str]:
    """Every lake object any chunk of any attempt of this file recorded."""
    keys: list[str] = []
    for manifest in s3_objects.list_keys(bucket, lake_layout.chunk_outputs_prefix(file_id)):
        keys.extend(s3_objects.get_json(bucket, manifest)["keys"])
    return sorted(set(keys))


def all_partial_totals(bucket: str, file_id: str, hashes: tuple[int, int] | None = None) -> list[pa.Table]:
    """Every partial-totals object of this file, whatever plan wrote it (for taking a load back out); with
    `hashes`, one shard's rows."""
    return _read_partials(bucket, sorted(s3_objects.list_keys(bucket, lake_layout.partial_totals_prefix(file_id))),
                          hashes)
