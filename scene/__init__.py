"""Wander's shared scene model: Gaussian clouds, meshes, cameras, worlds and file formats.

Pure data and I/O: imports neither Qt, GL, `viewer` nor `generators`.
"""

from .camera import Camera
from .errors import InvalidSceneError, SceneFormatError
from .gaussians import GaussianCloud
from .mesh import Mesh
from .world import Bookmark, Layer, World

__all__ = [
    "Bookmark",
    "Camera",
    "GaussianCloud",
    "InvalidSceneError",
    "Layer",
    "Mesh",
    "SceneFormatError",
    "World",
]
