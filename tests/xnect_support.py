"""Shared helpers of the XNect tests: a few people placed in a small image with exact targets."""

from __future__ import annotations

import numpy as np

from mocap_app.skeletons.xnect import STAGE1_SET

#: A standing pose (mpi3dhp17 order), metres, camera axes (x right, y down), pelvis at the origin.
STANDING = np.array([
    [0.0, -0.75, 0.0], [0.0, -0.50, 0.0],                                         # head_top, neck
    [-0.18, -0.48, 0.0], [-0.22, -0.20, 0.02], [-0.24, 0.05, 0.05],               # right arm
    [0.18, -0.48, 0.0], [0.22, -0.20, 0.02], [0.24, 0.05, 0.05],                  # left arm
    [-0.10, 0.0, 0.0], [-0.11, 0.42, 0.02], [-0.12, 0.82, 0.0],                   # right leg
    [0.10, 0.0, 0.0], [0.11, 0.42, 0.02], [0.12, 0.82, 0.0],                      # left leg
    [0.0, 0.0, 0.0], [0.0, -0.25, 0.0], [0.0, -0.62, 0.02],                       # pelvis, spine, head
])
assert STANDING.shape == (STAGE1_SET.num_joints, 3)


def place_people(centres_px: list[tuple[float, float]], depth_m: float = 4.0, focal: float = 200.0,
                 image_size: tuple[int, int] = (256, 160), seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(P, J, 2) pixels and (P, J, 3) camera metres of slightly varied standing people at the centres."""
    rng = np.random.default_rng(seed)
    width, height = image_size
    joints2d, joints3d = [], []
    for cx, cy in centres_px:
        pose = STANDING + rng.normal(0.0, 0.03, STANDING.shape)
        pose[STAGE1_SET.index("pelvis")] = 0.0
        root = np.array([(cx - width / 2) * depth_m / focal, (cy - height / 2) * depth_m / focal, depth_m])
        cam = pose + root
        joints3d.append(cam)
        joints2d.append(focal * cam[:, :2] / cam[:, 2:] + [width / 2, height / 2])
    return np.array(joints2d), np.array(joints3d)


def write_synthetic_set(folder, layouts: list[list[tuple[float, float]]], image_size: tuple[int, int],
                        focal: float) -> tuple:
    """Stick-figure images (one colour per bone) with MuCo-style and COCO-style JSON; returns both paths.

    Returns:
        (muco_json, coco_json, image_dir, people): ``people`` holds per image the (P, J, 2) pixels.
    """
    import json

    import cv2

    from mocap_app.skeletons import COCO17, map_joints
    from mocap_app.skeletons.xnect import PAF_LIMBS

    folder.mkdir(parents=True, exist_ok=True)
    width, height = image_size
    colours = np.random.default_rng(7).integers(60, 255, (len(PAF_LIMBS), 3))
    images, muco, coco, people = [], [], [], []
    for index, centres in enumerate(layouts):
        joints2d, joints3d = place_people(centres, focal=focal, image_size=image_size, seed=index)
        canvas = np.full((height, width, 3), 30, np.uint8)
        for person in joints2d:
            for limb, (child, parent) in enumerate(PAF_LIMBS):
                a, b = (tuple(int(round(v)) for v in person[j]) for j in (child, parent))
                cv2.line(canvas, a, b, tuple(int(c) for c in colours[limb]), 2, cv2.LINE_AA)
        name = f"{index:03d}.png"
        cv2.imwrite(str(folder / name), canvas)
        images.append({"id": index, "file_name": name, "width": width, "height": height})
        for person2d, person3d in zip(joints2d, joints3d, strict=True):
            muco.append({"id": len(muco), "image_id": index, "keypoints_img": person2d.tolist(),
                         "keypoints_cam": (1000.0 * person3d).tolist()})
            coco_xy = map_joints(person2d, STAGE1_SET.name, STAGE1_SET.name)[:, :2]
            keypoints = np.zeros((COCO17.num_joints, 3))
            for joint, name_ in enumerate(COCO17.joints):
                if name_ in STAGE1_SET.joints:
                    keypoints[joint] = [*coco_xy[STAGE1_SET.index(name_)], 2]
            coco.append({"id": len(coco), "image_id": index, "keypoints": keypoints.ravel().tolist(),
                         "num_keypoints": int((keypoints[:, 2] > 0).sum()), "iscrowd": 0})
        people.append(joints2d)
    muco_json, coco_json = folder / "muco.json", folder / "coco.json"
    muco_json.write_text(json.dumps({"images": images, "annotations": muco}))
    coco_json.write_text(json.dumps({"images": images, "annotations": coco,
                                     "categories": [{"id": 1, "name": "person"}]}))
    return muco_json, coco_json, folder, people
