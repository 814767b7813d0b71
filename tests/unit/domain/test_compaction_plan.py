"""What a compaction run decides for one partition (tasks/domain/compaction_plan.py), without AWS."""

from __future__ import annotations

import pytest

from tasks.domain import compaction_plan, lake_layout
from tasks.domain.compaction_plan import PartitionObject, claimed, output_key, partitions_to_compact, plan

FEED, DAY = "lcl_halfhourly", "2031-05-06"
MIB = 1024 * 1024


def chunk(file_id: str, size: int = MIB, index: int = 0) -> PartitionObject:
    return PartitionObject(key=lake_layout.curated_key(FEED, DAY, file_id, index), size=size, files=(file_id,))


def compacted(inputs: list[PartitionObject], size: int | None = None) -> PartitionObject:
    keys = tuple(item.key for item in inputs)
    return PartitionObject(key=output_key(FEED, DAY, keys), size=size or sum(item.size for item in inputs),
                           files=tuple(sorted({f for item in inputs for f in item.files})), inputs=keys)


def test_small_objects_of_committed_files_become_one_object_named_by_its_inputs() -> None:
    objects = [chunk("b"), chunk("a"), chunk("c", index=3)]
    result = plan(FEED, DAY, objects, {"a", "b", "c"}, [])
    [merge] = result.merges
    assert merge.inputs == tuple(sorted(item.key for item in objects)) and merge.files == ("a", "b", "c")
    assert merge.key == output_key(FEED, DAY, reversed(merge.inputs)), "the name depends on the set of inputs only"
    assert lake_layout.is_compacted(merge.key) and lake_layout.day_of(merge.key) == DAY
    assert merge.input_bytes == 3 * MIB and result.leftovers == [] and result.untouched == []


def test_objects_of_files_not_loaded_are_never_touched() -> None:
    loading = chunk("loading")
    result = plan(FEED, DAY, [chunk("a"), chunk("b"), loading], {"a", "b"}, [])
    assert [merge.inputs for merge in result.merges] == [(chunk("a").key, chunk("b").key)]
    assert result.untouched == [loading.key]
    holder = compacted([chunk("a"), chunk("loading")])
    result = plan(FEED, DAY, [holder, chunk("b"), chunk("c")], {"a", "b", "c"}, [])
    assert [merge.inputs for merge in result.merges] == [(chunk("b").key, chunk("c").key)]
    assert result.untouched == [holder.key], "a compacted object with rows of a file being rerun waits"


def test_merges_are_packed_up_to_the_target_and_a_lone_object_is_left_as_it_is() -> None:
    objects = [chunk(f"f{n}", size=40 * MIB) for n in range(7)]
    result = plan(FEED, DAY, objects, {f"f{n}" for n in range(7)}, [], target_bytes=128 * MIB)
    assert [len(merge.inputs) for merge in result.merges] == [3, 3]
    assert all(merge.input_bytes <= 128 * MIB for merge in result.merges)
    assert plan(FEED, DAY, [chunk("a")], {"a"}, []).merges == []


def test_a_full_compacted_object_stays_and_a_small_one_takes_in_new_objects() -> None:
    full = compacted([chunk("a"), chunk("b")], size=100 * MIB)
    small = compacted([chunk("c"), chunk("d")])
    result = plan(FEED, DAY, [full, small, chunk("e")], set("abcde"), [], target_bytes=128 * MIB)
    assert [merge.inputs for merge in result.merges] == [tuple(sorted((small.key, chunk("e").key)))]


def test_a_rerun_after_a_crash_deletes_the_leftover_inputs_instead_of_compacting_them_again() -> None:
    inputs = [chunk("a"), chunk("b")]
    holder = compacted(inputs)
    later = chunk("c")
    objects = [*inputs, holder, later]
    claims = claimed(objects, {"a", "b", "c"})
    assert claims == {item.key: holder.key for item in inputs}
    result = plan(FEED, DAY, objects, {"a", "b", "c"}, claims)
    assert result.leftovers == sorted(claims)
    [merge] = result.merges
    assert set(merge.inputs) == {holder.key, later.key}, "the leftovers are in no merge"


def test_a_claimed_object_that_was_not_confirmed_is_compacted_normally() -> None:
    """A file retracted out of a compacted object and loaded again writes a key the object still names."""
    holder = compacted([chunk("a"), chunk("b")])
    reloaded = chunk("a")
    assert claimed([holder, reloaded], {"a", "b"}) == {reloaded.key: holder.key}
    result = plan(FEED, DAY, [holder, reloaded], {"a", "b"}, [])
    assert [set(merge.inputs) for merge in result.merges] == [{holder.key, reloaded.key}]


def test_claims_only_cover_committed_files() -> None:
    holder = compacted([chunk("a"), chunk("b")])
    assert claimed([holder, chunk("a"), chunk("b")], {"b"}) == {chunk("b").key: holder.key}


def test_partitions_with_two_objects_or_more_in_the_range() -> None:
    counts = {"2031-05-01": 1, "2031-05-02": 2, "2031-05-03": 5, "2031-06-01": 3}
    assert partitions_to_compact(counts, None, None) == ["2031-05-02", "2031-05-03", "2031-06-01"]
    assert partitions_to_compact(counts, "2031-05-03", "2031-05-31") == ["2031-05-03"]


def test_a_target_below_the_minimum_is_refused() -> None:
    with pytest.raises(ValueError, match="target_bytes"):
        plan(FEED, DAY, [], set(), [], target_bytes=compaction_plan.MIN_TARGET_BYTES - 1)


def test_object_names_say_what_they_hold() -> None:
    key = chunk("0123abcd", index=7).key
    assert lake_layout.file_of(key) == "0123abcd" and not lake_layout.is_compacted(key)
    assert lake_layout.file_of(compacted([chunk("a"), chunk("b")]).key) is None
    assert lake_layout.is_hidden(f"{lake_layout.curated_prefix(FEED, DAY)}_tmp.parquet")
