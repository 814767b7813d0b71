"""How many distinct meters a file has, from its chunks without reading their totals: a K-minimum-values sketch.

Each chunk keeps the SKETCH_SIZE smallest distinct meter hashes it saw (tasks.domain.meter_shards.meter_hash,
uniform over 32 bits). The smallest SKETCH_SIZE of all chunks' sketches are those of the whole file, so the
count is exact up to SKETCH_SIZE meters and otherwise (k - 1) / (k-th smallest hash / 2^32), within a few per
cent: enough to choose how many shards to aggregate in, which is all it is used for.
"""

from __future__ import annotations

import base64
import struct

import pyarrow as pa
import pyarrow.compute as pc

from tasks.domain.meter_shards import HASH_SPACE

SKETCH_SIZE = 1024


def sketch_of(hashes: pa.Array | pa.ChunkedArray) -> list[int]:
    """The SKETCH_SIZE smallest distinct hashes, ascending."""
    return pc.unique(hashes).sort()[:SKETCH_SIZE].to_pylist()


def merged(sketches: list[list[int]]) -> list[int]:
    """The sketch of the union of what the sketches saw."""
    return sorted(set().union(*sketches))[:SKETCH_SIZE] if sketches else []


def estimated_meters(sketches: list[list[int]]) -> int:
    """The distinct meters of all the chunks together: exact up to SKETCH_SIZE, then an estimate."""
    smallest = merged(sketches)
    if len(smallest) < SKETCH_SIZE:
        return len(smallest)
    return round((SKETCH_SIZE - 1) * HASH_SPACE / (smallest[-1] + 1))


def to_text(sketch: list[int]) -> str:
    """A sketch as 4 bytes a hash in base64 (5.5 KB at most), small enough for a Parquet footer."""
    return base64.b64encode(struct.pack(f"<{len(sketch)}I", *sketch)).decode("ascii")


def from_text(text: str | bytes) -> list[int]:
    packed = base64.b64decode(text)
    return list(struct.unpack(f"<{len(packed) // 4}I", packed))
