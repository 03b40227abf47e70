"""Blender, a real client, imports our BVH files: bone heads match our forward kinematics and stand upright.

Blender's importer (default axis_forward='-Z', axis_up='Y') turns our y-up file into its z-up world:
Blender (x, y, z) = ours (x, -z, y) * global_scale. We import with global_scale=0.01 (cm -> m).
"""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
from conftest import SHARED_DATA
from scipy.spatial.transform import Rotation

from mocap_app.bvh import BVHMotion, forward_kinematics, motion_from_rig, read_bvh, write_bvh
from mocap_app.skeletons import RIG

pytestmark = pytest.mark.blender

#: Blender units per file unit: our files are cm, Blender's are metres.
GLOBAL_SCALE = 0.01
#: Largest allowed distance between a Blender bone head and our FK joint, cm.
TOLERANCE_CM = 0.5
FRAMES = 40
#: CMU's length unit, 1/0.45 inch, in centimetres (to convert a CMU file to cm as a user would).
CMU_UNIT_CM = 2.54 / 0.45

# Runs inside Blender. Debian's Blender 3.4 importer opens files with mode 'rU', which its Python 3.11
# rejects: drop the 'U' while importing.
BLENDER_SCRIPT = """
import builtins, json, sys
import bpy

real_open = builtins.open
def open_without_u(file, mode="r", *args, **kwargs):
    return real_open(file, mode.replace("U", ""), *args, **kwargs)

bvh_path, out_path, scale = sys.argv[sys.argv.index("--") + 1:]
builtins.open = open_without_u
try:
    bpy.ops.import_anim.bvh(filepath=bvh_path, global_scale=float(scale), axis_forward="-Z", axis_up="Y")
finally:
    builtins.open = real_open
armature = bpy.context.view_layer.objects.active
first, last = (int(round(v)) for v in armature.animation_data.action.frame_range)
frames = []
for frame in range(first, last + 1):
    bpy.context.scene.frame_set(frame)
    frames.append({bone.name: list(armature.matrix_world @ bone.head) for bone in armature.pose.bones})
with real_open(out_path, "w") as stream:
    json.dump(frames, stream)
"""


def _blender_heads(blender_exe: str, bvh_path, tmp_path, names) -> np.ndarray:
    """(F, J, 3) bone heads after Blender's import, in Blender's world (z up, metres)."""
    script, out = tmp_path / "dump_heads.py", tmp_path / "heads.json"
    script.write_text(BLENDER_SCRIPT)
    result = subprocess.run([blender_exe, "-b", "--factory-startup", "--python", str(script), "--",
                             str(bvh_path), str(out), str(GLOBAL_SCALE)],
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0 and out.exists(), result.stdout[-2000:] + result.stderr[-2000:]
    frames = json.loads(out.read_text())
    return np.array([[frame[name] for name in names] for frame in frames])


def _check_against_fk(blender_exe, bvh_path, tmp_path, head: str, feet: tuple[str, str]) -> float:
    motion = read_bvh(bvh_path)
    names = motion.skeleton.names
    ours_cm = forward_kinematics(motion)
    blender_m = _blender_heads(blender_exe, bvh_path, tmp_path, names)
    assert blender_m.shape == ours_cm.shape
    # Blender (x, y, z) = ours (x, -z, y) * scale.
    expected_m = np.stack([ours_cm[..., 0], -ours_cm[..., 2], ours_cm[..., 1]], axis=-1) * GLOBAL_SCALE
    deviation_cm = np.linalg.norm(blender_m - expected_m, axis=-1).max() / GLOBAL_SCALE
    assert deviation_cm < TOLERANCE_CM
    # Upright in Blender: the head is far above both feet on every frame (z is Blender's up).
    head_z = blender_m[:, names.index(head), 2]
    feet_z = blender_m[:, [names.index(f) for f in feet], 2].max(axis=1)
    assert np.all(head_z - feet_z > 1.0), (head_z - feet_z).min()
    return deviation_cm


def test_blender_imports_our_rig_take(blender_exe, tmp_path):
    time = np.arange(FRAMES) / 30.0
    rng = np.random.default_rng(11)
    amplitude = rng.uniform(-25.0, 25.0, size=(RIG.num_joints, 3))
    phase = rng.uniform(0.0, 2 * np.pi, size=(RIG.num_joints, 3))
    angles = amplitude * np.sin(2 * np.pi * 0.8 * time[:, None, None] + phase)  # a swaying, upright performer
    quaternions = Rotation.from_euler("XYZ", angles.reshape(-1, 3), degrees=True).as_quat().reshape(FRAMES, -1, 4)
    root = np.stack([0.3 * time, 0.95 + 0.03 * np.sin(4 * time), -0.5 * time], axis=1)
    path = tmp_path / "rig_take.bvh"
    write_bvh(path, motion_from_rig(root, quaternions, 1.0 / 30.0))
    _check_against_fk(blender_exe, path, tmp_path, "Head", ("LeftFoot", "RightFoot"))


def test_blender_imports_a_converted_cmu_take(blender_exe, tmp_path, shared_data):
    source = read_bvh(SHARED_DATA / "mocap" / "train" / "cmu_motionbuilder" / "01_01.bvh")  # ZYX, CMU units
    clip = BVHMotion(source.skeleton, source.frame_time, source.values[:FRAMES])
    path = tmp_path / "cmu_zxy_cm.bvh"
    write_bvh(path, clip, order="ZXY", scale=CMU_UNIT_CM)
    assert read_bvh(path).skeleton.rotation_axes(5) == "ZXY"
    _check_against_fk(blender_exe, path, tmp_path, "Head", ("LeftFoot", "RightFoot"))
