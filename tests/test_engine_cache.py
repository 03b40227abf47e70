"""The TensorRT engine cache on made-up keys and engine bytes: keys, atomic store, corruption, list, clear."""

from __future__ import annotations

import dataclasses
import json
import logging

import pytest

from engines.cache import ENGINE_NAME, MANIFEST_NAME, EngineCache, EngineKey, default_cache_dir
from engines.providers import Availability, GpuInfo
from engines.trt_build import EngineBuildError, engine_key, is_out_of_memory, profile_shapes, sidecar_inputs

STAGE2_PROFILE = (("features", (1, 918), (4, 918), (32, 918)),)


def make_key(**changes) -> EngineKey:
    key = EngineKey(model="stage2", onnx_sha256="ab" * 32, gpu_name="NVIDIA GeForce RTX 3060",
                    compute_capability="8.6", tensorrt_version="10.7.0", precision="fp16",
                    input_shapes=STAGE2_PROFILE)
    return dataclasses.replace(key, **changes)


def test_key_digest_is_stable_and_changes_with_every_field():
    key = make_key()
    assert key.digest == make_key().digest and len(key.digest) == 64
    changed = [make_key(onnx_sha256="cd" * 32), make_key(gpu_name="NVIDIA RTX A4000"),
               make_key(compute_capability="8.9"), make_key(tensorrt_version="10.8.0"), make_key(precision="int8"),
               make_key(input_shapes=(("features", (1, 918), (8, 918), (32, 918)),))]
    digests = {key.digest} | {other.digest for other in changed}
    assert len(digests) == len(changed) + 1
    assert key.folder_name.startswith("stage2-fp16-")
    with pytest.raises(ValueError, match="fp32, fp16, int8"):
        make_key(precision="fp8")


def test_store_then_lookup_and_miss_on_any_change(tmp_path):
    cache = EngineCache(tmp_path)
    key = make_key()
    assert cache.lookup(key) is None
    path = cache.store(key, b"engine-bytes", "/models/stage2.onnx", build_seconds=12.3)
    assert path.read_bytes() == b"engine-bytes" and cache.lookup(key) == path
    manifest = json.loads((path.parent / MANIFEST_NAME).read_text())
    assert manifest["key"] == key.as_json() and manifest["build_seconds"] == 12.3
    assert cache.lookup(make_key(tensorrt_version="10.8.0")) is None   # other TensorRT: rebuild
    assert cache.lookup(make_key(gpu_name="NVIDIA RTX A4000")) is None  # other GPU: rebuild
    assert not list(tmp_path.glob(".staging-*"))                        # nothing half-written left


def test_rebuilt_engine_replaces_the_stale_one(tmp_path):
    cache = EngineCache(tmp_path)
    old, new = make_key(), make_key(onnx_sha256="cd" * 32)  # the ONNX file changed
    cache.store(old, b"old", "/models/stage2.onnx")
    cache.store(make_key(precision="fp32"), b"fp32", "/models/stage2.onnx")
    cache.store(new, b"new", "/models/stage2.onnx")
    assert cache.lookup(old) is None and cache.lookup(new).read_bytes() == b"new"
    assert cache.lookup(make_key(precision="fp32")) is not None  # other precisions are kept
    assert len(cache.entries()) == 2


@pytest.mark.parametrize("damage", ["truncate", "flip", "delete_engine", "bad_manifest", "other_key"])
def test_corrupt_entry_is_deleted_with_one_message(tmp_path, caplog, damage):
    cache = EngineCache(tmp_path)
    key = make_key()
    path = cache.store(key, b"0123456789", "/models/stage2.onnx")
    manifest = path.parent / MANIFEST_NAME
    if damage == "truncate":
        path.write_bytes(b"01234")
    elif damage == "flip":
        path.write_bytes(b"0123456780")
    elif damage == "delete_engine":
        path.unlink()
    elif damage == "bad_manifest":
        manifest.write_text("{not json")
    else:
        data = json.loads(manifest.read_text())
        data["key"]["tensorrt_version"] = "9.0"
        manifest.write_text(json.dumps(data))
    assert cache.entries()[0].problem is not None
    with caplog.at_level(logging.WARNING, logger="engines.cache"):
        assert cache.lookup(key) is None
    assert not path.parent.exists()
    assert len([r for r in caplog.records if "rebuilt" in r.getMessage()]) == 1
    assert cache.store(key, b"fresh", "/models/stage2.onnx").read_bytes() == b"fresh"


def test_failures_are_remembered_until_a_successful_build(tmp_path):
    cache = EngineCache(tmp_path)
    key = make_key()
    assert cache.failure(key) is None
    cache.record_failure(key, "out of GPU memory")
    assert cache.failure(key) == "out of GPU memory"
    assert cache.failure(make_key(precision="fp32")) is None
    cache.store(key, b"engine", "/models/stage2.onnx")
    assert cache.failure(key) is None


def test_list_and_clear(tmp_path):
    cache = EngineCache(tmp_path)
    cache.store(make_key(), b"a" * 10, "/models/stage2.onnx")
    cache.store(make_key(model="prn", onnx_sha256="ef" * 32), b"b" * 20, "/models/prn.onnx")
    cache.record_failure(make_key(precision="int8"), "no calibration")
    cache.timing_cache_path(make_key()).parent.mkdir(parents=True)
    cache.timing_cache_path(make_key()).write_bytes(b"timing")
    entries = {entry.model: entry for entry in cache.entries()}
    assert set(entries) == {"stage2", "prn"}
    assert entries["prn"].size_bytes == 20 and entries["prn"].problem is None
    assert entries["stage2"].gpu_name == "NVIDIA GeForce RTX 3060" and entries["stage2"].tensorrt_version == "10.7.0"
    assert cache.clear("prn") == 1 and [e.model for e in cache.entries()] == ["stage2"]
    assert cache.clear() == 1 and cache.entries() == []
    assert cache.failure(make_key(precision="int8")) is None


def test_timing_and_calibration_caches_are_keyed_sensibly(tmp_path):
    cache = EngineCache(tmp_path)
    key = make_key()
    assert cache.timing_cache_path(key) == cache.timing_cache_path(make_key(model="prn", precision="fp32"))
    assert cache.timing_cache_path(key) != cache.timing_cache_path(make_key(tensorrt_version="10.8.0"))
    assert cache.calibration_cache_path(key) != cache.calibration_cache_path(make_key(onnx_sha256="cd" * 32))


def test_cache_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MOCAP_ENGINES_DIR", str(tmp_path / "engines"))
    assert default_cache_dir() == tmp_path / "engines"
    assert EngineCache().root == tmp_path / "engines"


def test_profiles_give_per_person_networks_a_batch_range():
    assert profile_shapes([("features", (-1, 918))]) == STAGE2_PROFILE
    fixed = profile_shapes([("image", (1, 224, 224, 3))])
    assert fixed == (("image", (1, 224, 224, 3), (1, 224, 224, 3), (1, 224, 224, 3)),)
    with pytest.raises(EngineBuildError, match="only the first"):
        profile_shapes([("image", (1, -1, -1, 3))])


def test_profiles_and_keys_of_the_shipped_networks(tmp_path):
    from engines.engine import read_sidecar
    from mocap_app.backends.multiposenet import PACKAGED_PRN
    from mocap_app.backends.xnect import PACKAGED_STAGE2

    assert profile_shapes(sidecar_inputs(read_sidecar(PACKAGED_STAGE2))) == STAGE2_PROFILE
    assert profile_shapes(sidecar_inputs(read_sidecar(PACKAGED_PRN)))[0][3] == (32, 17, 28, 18)
    available = Availability(tensorrt_version="10.7.0", tensorrt_problem=None,
                             gpu=GpuInfo("NVIDIA GeForce RTX 3060", "8.6"), gpu_problem=None)
    key = engine_key(PACKAGED_STAGE2, "fp16", STAGE2_PROFILE, available)
    assert key.model == "stage2" and key.compute_capability == "8.6" and len(key.onnx_sha256) == 64
    changed = tmp_path / "stage2.onnx"
    changed.write_bytes(PACKAGED_STAGE2.read_bytes() + b"\0")  # a retrained file: another key
    assert engine_key(changed, "fp16", STAGE2_PROFILE, available).digest != key.digest
    with pytest.raises(EngineBuildError, match="needs an NVIDIA GPU"):
        engine_key(PACKAGED_STAGE2, "fp16", STAGE2_PROFILE, Availability())


def test_out_of_memory_text_is_recognised():
    assert is_out_of_memory("[defaultAllocator.cpp::allocate] Error Code 1: Cuda Runtime (out of memory)")
    assert is_out_of_memory("cudaErrorMemoryAllocation")
    assert not is_out_of_memory("Network has dynamic or shape inputs, but no optimization profile")


def test_manifest_and_engine_names_are_the_documented_ones(tmp_path):
    path = EngineCache(tmp_path).store(make_key(), b"x", "/m.onnx")
    assert path.name == ENGINE_NAME and (path.parent / MANIFEST_NAME).is_file()
