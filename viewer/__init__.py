"""The Qt viewer: window, viewport, navigation, and the OpenGL Gaussian-splat renderer.

Nothing in `scene/` or `generators/` imports this package. GL code lives in
`renderer.py` (splats), `mesh_renderer.py` (meshes), `offscreen.py` + `gl_context.py`
(headless renders); GLSL sources live in the top-level `shaders` package.
"""
