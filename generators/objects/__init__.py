"""Single photo -> 3D object generators, and the maths to place objects in a world.

`pipeline.generate_object` is the job; `place` picks surfaces and builds undoable
placement edits. Heavy modules (diffusers, transformers, trimesh) import lazily.
"""
