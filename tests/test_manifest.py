"""Flush and load manifests (walstream.pipeline.manifest): the chain, the body, the key."""

from __future__ import annotations

import json

import pytest

from walstream.pipeline.checkpoint import Checkpoint
from walstream.pipeline.manifest import (
    LoadRef,
    Manifest,
    ManifestChain,
    ManifestFile,
    load_manifest,
    parse_manifest,
)


def test_a_chain_starts_where_the_last_ended_and_carries_the_files_of_a_cut_transaction() -> None:
    chain = ManifestChain("s", 100, origin=True, loads=(LoadRef("public.t", 90),))
    first = chain.next_manifest(200, [ManifestFile("public.t", "a.parquet", 3, last_lsn=180)])
    assert first is not None
    assert (first.start_lsn, first.end_lsn, first.origin) == (100, 200, True)
    assert first.loads == (LoadRef("public.t", 90),)  # only the origin names the loads
    # a flush that completed no transaction writes no manifest; its files wait for the next
    assert (
        chain.next_manifest(200, [ManifestFile("public.t", "b.parquet", 5, last_lsn=260)]) is None
    )
    cut = ManifestFile("public.u", "c.parquet", 2, last_lsn=400)  # goes on past 300
    second = chain.next_manifest(300, [cut])
    assert second is not None
    assert (second.start_lsn, second.end_lsn, second.origin, second.loads) == (200, 300, False, ())
    assert [f.key for f in second.files] == ["b.parquet", "c.parquet"]
    third = chain.next_manifest(400, [])
    assert third is not None and [f.key for f in third.files] == ["c.parquet"]


def test_the_body_round_trips_and_the_key_names_the_interval_and_the_content() -> None:
    files = (ManifestFile("public.t", "public/t/x.parquet", 7),)
    plain = Manifest("s", "flush", 0x10, 0x20, True, files)
    assert "loads" not in json.loads(plain.body())  # unchanged for manifests without loads
    named = Manifest("s", "flush", 0x10, 0x20, True, files, (LoadRef("public.t", 0x0F),))
    for manifest in (plain, named):
        assert parse_manifest(manifest.body()) == manifest
    assert plain.key.startswith("_walstream/s/manifests/0000000000000020-0000000000000010-flush-")
    assert plain.key != named.key  # another content, another name (Snowpipe skips known names)


def test_a_load_manifest_reaches_the_consistent_point() -> None:
    manifest = load_manifest("s", 0x500, [ManifestFile("public.t", "k", 1)], origin=True)
    assert (manifest.kind, manifest.start_lsn, manifest.end_lsn) == ("load", 0x4FF, 0x501)


@pytest.mark.parametrize("body", [b"{}", b"not json", b'{"files": [{"table": 1}]}'])
def test_anything_else_is_not_a_manifest(body: bytes) -> None:
    with pytest.raises(ValueError, match="not a walstream manifest"):
        parse_manifest(body)


def test_the_checkpoint_names_the_loads_started_or_finished() -> None:
    checkpoint = Checkpoint("s")
    checkpoint.record_snapshot("public.a", "loaded", 0x100, 3, 30)
    checkpoint.record_snapshot("public.b", "loading", 0x100, 1, 10)
    checkpoint.record_snapshot("public.c", "not_started", 0x100, 0, 0)
    assert checkpoint.snapshot_positions() == [("public.a", 0x100), ("public.b", 0x100)]
