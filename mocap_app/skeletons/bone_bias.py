"""Known bias of a joint set's own 3D bone proportions, for sizing the rig from that 3D.

Stage III takes a performer's proportions from the 3D of the first frames (see
:func:`mocap_app.fitting.bones.estimate_offsets`). BlazePose GHUM's 3D puts its head landmarks
too close to the shoulders: on rendered train clips of both skeleton families (five CMU, two
DAZ) of the figure with its anatomical head (skull top at the head-top joint, a 23 cm head, the
head turning with the captured head joint, DAZ necks of adult length) the fitted Neck-Head segment
came out short relative to the other segments (family means: factor 1.31 to the truth), so the
fitted head sat centimetres low. A factor here multiplies the measured segment's length relative
to the others; the height still sets the overall size.

Fitted by ``scripts/fit_bone_length_bias.py`` leave-one-render-out: per render the log ratio of
truth to fitted segment lengths (each render's median over the segments removed, so only
proportions count), averaged within each skeleton family, then the two family means averaged. A
segment is kept only where both families agree on the direction and the held-out Stage III MPJPE
improved on the left-out render: Neck-Head improved all seven renders (held-out mean 145.5 ->
143.3 mm). Thigh (factor 0.88) also improved all seven, by less (145.5 -> 143.7; on the renders
of the earlier, oversized head both DAZ renders were worse) and is not applied; forearm improved
five, shin and upper arm carry no bias. Before the figure's head was made anatomical the same fit
gave Neck-Head 1.40 (held-out 145.2 -> 141.3 mm on those renders); on the new renders a fixed
1.40 scores 143.5 mm and 1.31 144.1 mm over all seven (not held out: the MPJPE moves by a few mm
between nearby factors, so the length ratios set the factor). Reproduce (train motions only)::

    mocap synth --bvh train/cmu_motionbuilder/01_01.bvh --out r/w1 --duration 6 --yaw 90 --distance 2.8
    mocap synth --bvh train/cmu_motionbuilder/05_06.bvh --out r/w2 --duration 6 --yaw 90 --distance 2.8
    mocap synth --bvh train/cmu_3dsmax/131_01.bvh --out r/w3 --duration 6 --yaw 90 --distance 2.8
    mocap synth --bvh train/cmu_motionbuilder/05_06.bvh --out r/w2f --duration 4 --yaw 0 --distance 2.8
    mocap synth --bvh train/cmu_3dsmax/131_01.bvh --out r/w3y45 --duration 4 --yaw 45 --distance 2.8
    mocap synth --bvh train/cmu_daz_acrnn/martial/05.bvh --bvh-fps 60 --out r/m5 --start 5 --duration 6 \
        --yaw 90 --distance 2.6
    mocap synth --bvh train/cmu_daz_acrnn/indian/04.bvh --bvh-fps 60 --out r/i04 --start 5 --duration 5 \
        --distance 2.8
    python scripts/fit_bone_length_bias.py r/w1 r/w2 r/w3 r/w2f r/w3y45 --daz r/m5 r/i04

(paths under ``../shared/data/mocap/``; it printed "Neck-Head: factor 1.31 (all renders) ...
mean 145.5->143.3, better on 7").
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

#: Joint set -> rig segment (from joint, to joint; a segment of ``mocap_app.fitting.bones``) -> factor
#: on its length measured from that joint set's 3D. Joint sets not listed are used as measured.
BONE_LENGTH_BIAS: Mapping[str, Mapping[tuple[str, str], float]] = MappingProxyType({
    "blazepose33": MappingProxyType({("Neck", "Head"): 1.31}),
})


def bone_length_bias(joint_set: str | None) -> Mapping[tuple[str, str], float]:
    """The segment factors for 3D of ``joint_set`` (empty for unlisted sets or ``None``)."""
    return BONE_LENGTH_BIAS.get(joint_set, MappingProxyType({})) if joint_set else MappingProxyType({})
