"""Depth for equirect panoramas: a geometric prior (`classical`) and a neural model (`neural`)."""

BACKENDS = ("classical", "neural")
