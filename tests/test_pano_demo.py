"""The bundled demo world: built from assets/ with no downloads, cached by input + code hash."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from generators.demo import DEMO_PHOTO, demo_key, demo_world


def test_assets_and_licences_are_bundled() -> None:
    assets = DEMO_PHOTO.parent
    lic = (assets / "LICENSES.md").read_text()
    for name in ("rocket.jpg", "coffee.jpg", "chelsea.jpg"):
        assert (assets / name).is_file() and name in lic
    assert "public domain" in lic.lower() and "CC0" in lic


@pytest.mark.slow
def test_demo_world_builds_then_loads_from_cache(tmp_path: Path, monkeypatch) -> None:
    import generators.pano_world as pano_world

    builds: list[int] = []
    real_build = pano_world.world_from_photos

    def counted_build(*a, **k):
        builds.append(1)
        return real_build(*a, **k)

    monkeypatch.setattr(pano_world, "world_from_photos", counted_build)
    msgs: list[str] = []
    w1 = demo_world(tmp_path, lambda f, m: msgs.append(m))
    cache = list(tmp_path.glob("demo-world-*.npz"))
    assert len(cache) == 1 and demo_key() in cache[0].name
    c1 = w1.layers[0].data
    assert 300_000 < len(c1) < 1_500_000
    assert w1.bookmarks[0].position[1] == pytest.approx(1.6)
    assert len(builds) == 1
    w2 = demo_world(tmp_path)
    assert len(builds) == 1  # the second call loads the cache: nothing is built again
    c2 = w2.layers[0].data
    np.testing.assert_array_equal(c1.means, c2.means)
    np.testing.assert_array_equal(c1.sh0, c2.sh0)
    assert c2.meta["panorama"]["inputs"] == [str(DEMO_PHOTO)]
    assert w2.layers[0].name == w1.layers[0].name and w2.meta["demo"] is True
    # a corrupt cache is rebuilt, not a crash
    cache[0].write_bytes(b"garbage")
    w3 = demo_world(tmp_path)
    assert len(w3.layers[0].data) == len(c1) and len(builds) == 2
