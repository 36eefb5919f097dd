"""Mirror-style reconstruction: photos or video frames taken while moving -> cameras,
depth maps and a Gaussian scene (pycolmap SfM, plane-sweep depth, fusion, optional
photometric refinement). Entry point: `pipeline.reconstruct`."""
