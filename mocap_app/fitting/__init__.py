"""Stage III: kinematic skeleton fitting (joint angles + root position from joint observations)."""
