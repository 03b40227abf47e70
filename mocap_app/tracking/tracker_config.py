"""Settings of the identity tracker (:class:`~mocap_app.tracking.identity.IdentityTracker`).

Every threshold is documented with the case it separates; the module docstring of
:mod:`.identity` says how the cues are combined.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrackerConfig:
    """Identity tracker settings.

    Attributes:
        weight_appearance / weight_2d / weight_3d: weights of the three dissimilarities.
        max_cost: dissimilarity above which a detection is not the same person.
        pose3d_scale_m: 3D distance (metres) that counts as a dissimilarity of 1.
        min_joints_new: fewest confidently seen joints for a detection to start a new performer.
        min_confidence: joint confidence that counts as seen.
        keep_lost_s: how long a lost performer can come back with the same id, seconds.
        lost_2d_growth: how much the 2D gate widens per second a performer has been lost.
        predict_s: longest gap over which a performer's image velocity is extrapolated, seconds.
        appearance_refresh_s: how often a performer's appearance is re-taken, seconds.
        appearance_update: fraction of each matched frame's appearance blended into the
            performer's (a slow drift that follows lighting without following a swap).
        appearance_gate: Hellinger distance between a clean look and a performer's appearance
            above which the detection is not that performer, however well placed (one dancer's
            look against the other's is about 1, the same dancer's 0.15 to 0.35).
        appearance_trusted: clean looks a performer's appearance must be built from before it is
            held to ``appearance_gate`` or may re-identify a detection (``reid_appearance``): a
            performer's first look may hold much of a neighbour the detector has not found yet,
            and a second look without them then differs by more than the gate. Until then the
            looks are averaged (each counts equally) rather than blended slowly, and ...
        young_appearance_gate: ... only a look this far from them vetoes a detection: a first
            look mostly of a neighbour's shirt is about 0.8 from the person's own, another
            person's look about 0.9 to 1 (a region that jumped to the partner in the first
            frames of a take).
        reid_appearance: Hellinger distance under which a detection no performer took gets back
            the id of a lost performer it looks like.
        reid_margin: a lost performer whose appearance a clean look matches (``reid_appearance``)
            and matches better by this much than every tracked performer's takes the detection
            before any pose is compared.
        mixed_overlap: fraction of a torso box covered by another person's box above which the
            look is mixed and not used.
        near_gate: mean 2D distance to the predicted pose, in person sizes, within which a
            detection may match a performer whatever its pose dissimilarities.
        duplicate_gate: mean 2D distance between two detections of one frame, in person sizes,
            below which they are the same person seen twice (a detector's overlapping boxes); the
            one with the lower mean confidence is dropped ...
        duplicate_3d_m: ... provided their root-relative 3D poses (when both have one) are closer
            than this mean joint distance, metres: two people overlapping in the image (one behind
            the other) are not merged.
        confirm_frames: consecutive matched frames after which a new performer is confirmed
            (given its id and returned); 5 frames is 0.17 s at 30 fps, longer than a detector's
            typical duplicate burst and short enough to lose little of a newcomer's motion.
        tentative_margin: added to a tentative performer's cost in the assignment, so an
            established performer wins a detection whose costs are close.
        unknown_look_cost: added in the assignment to the cost of a performer with no appearance
            yet against a detection with a look: the others pay their look distance, so without it
            a newcomer first seen mixed with a neighbour (no clean look) would win every detection
            against a performer whose look matches (a region back on its dancer after a frame
            on the partner).
        young_stay: mean 2D distance to the predicted pose, in person sizes, within which a young
            appearance (not ``appearance_trusted`` yet) does not veto a detection of a performer
            seen last frame, who pays ``unknown_look_cost`` instead: a pair found as one at a take's
            start gives the one found a first look mostly of the other's shirt (0.86 from their
            own on a salsa render), while a region that jumped to the partner has moved by their
            distance apart (0.2 sizes or more). Such a young look, far from the performer's next
            clean look, is replaced by it rather than averaged.
        look_match / look_margin: a look (clean or not) within ``look_match`` of a performer with a
            trusted appearance, and closer to it by ``look_margin`` than to another performer's
            appearance, is never given to that other performer, and is handed back to the
            performer it matches if they are lost (a region sliding from one dancer onto the
            other: its torso box shows the other dancer's clothes; a look mixing both is
            within ``look_match`` of neither, or close to both).
        ambiguous_look / ambiguous_margin: a detection whose look is further than
            ``ambiguous_look`` from its performer and no further (by ``ambiguous_margin``) from a
            performer lost or unmatched this frame is given to nobody that frame: it may be either
            dancer, and an id given for a frame to the wrong one is an identity switch.
        adopt_lost_gate: a tentative performer confirmed while a performer lost before it was
            first seen (and kept, ``keep_lost_s``) was last seen within this many person sizes of
            its first pose takes that lost performer's id instead of a new one: a dancer lost
            behind their partner comes back next to where they vanished, with a look still mixed
            with the partner's that re-identification cannot use (0: always a new id).
        overlap_gate / overlap_margin: while another confirmed performer's predicted pose is within
            ``overlap_gate`` person sizes of a performer's (one dancer close in front of the other), a
            detection given to the performer whose cost to the other is at most its own cost plus
            ``overlap_margin`` is given to nobody that frame: a region on the dancer behind slides onto
            the front one (both regions then sit on one dancer) and its pose is as near to both, so the
            assignment's pick is noise and a wrong pick is an identity switch (0: off). On six
            training salsa pairs in three runs each it took the switches from 44 to 26, one
            performer-frame in 120 fewer fitted, detection unchanged.
    """

    weight_appearance: float = 1.0
    weight_2d: float = 1.0
    weight_3d: float = 0.5
    max_cost: float = 1.0
    pose3d_scale_m: float = 0.3
    min_joints_new: int = 5
    min_confidence: float = 0.2
    keep_lost_s: float = 5.0
    lost_2d_growth: float = 1.0
    predict_s: float = 0.5
    appearance_refresh_s: float = 30.0
    appearance_update: float = 0.05
    appearance_gate: float = 0.7
    appearance_trusted: int = 5
    young_appearance_gate: float = 0.85
    reid_appearance: float = 0.4
    reid_margin: float = 0.15
    mixed_overlap: float = 0.15
    near_gate: float = 0.3
    duplicate_gate: float = 0.15
    duplicate_3d_m: float = 0.15
    confirm_frames: int = 5
    tentative_margin: float = 0.1
    unknown_look_cost: float = 0.5
    young_stay: float = 0.1
    look_match: float = 0.5
    look_margin: float = 0.3
    ambiguous_look: float = 0.5
    ambiguous_margin: float = 0.1
    adopt_lost_gate: float = 1.0
    overlap_gate: float = 0.3
    overlap_margin: float = 0.05
