"""Wander's world scale: one unit is one metre, and the one standing eye height.

Generated worlds put their floor at height 0 and their start camera `EYE_HEIGHT` above
it; the viewer walks at the same height, so a new world opens exactly where it was made
to be seen from.
"""

from __future__ import annotations

#: metres: the eye of a standing adult above the floor (the walk camera and every
#: generator's start camera)
EYE_HEIGHT = 1.6
