"""Golden tests: every corpus image, replayed by the strict peer and read as a user reads it, gives the source's values.

This is where PVDesk's register maps are proven (the simulator tests prove
behaviour only: they encode from the very profile the reader decodes). For
each ``tests/corpus/images/**/*.json``:

- ``cli-profile``: ``pvdesk read --json`` in a subprocess, the image's profile named (``sunspec`` forces discovery);
- ``cli-auto``: the same with auto-detection, which must also pick the image's profile;
- ``service``: the desktop DeviceService the window uses, its first poll sample.

Every ``published`` value must equal PVDesk's within one least significant
digit of the point's scale; all mismatches of one image and path are reported
in one assertion. Values the image marks ``known_wrong`` (a profile defect
owned by another issue) are checked apart, in ``test_known_wrong``, which is
``xfail(strict=True)`` naming the issue and the exact mismatch: when the
owner fixes it, the strict xfail turns red and the mark must go.
"""

from __future__ import annotations

import pytest

from protocols.sim.image import ImageError, corpus_files, load_image

from .golden_helpers import IMAGES, PATHS, mismatch, read, shipped

FILES = corpus_files(IMAGES)
_READS: dict = {}


def _image(path):
    return load_image(path)


def _read(image, how):
    key = (str(image.path), how)
    if key not in _READS:
        _READS[key] = read(image, how)
    return _READS[key]


def _params():
    out = []
    for f in FILES:
        rel = f.relative_to(IMAGES).as_posix()
        try:
            image = load_image(f)
        except ImageError:
            out.append(pytest.param(f, "load", id=f"{rel}-load"))
            continue
        for how in PATHS:
            marks = []
            if how == "cli-auto" and not image.autodetect:
                reason = image.autodetect_reason or "auto-detection is known to miss this device"
                if reason.startswith("issue"):  # a PVDesk defect that an issue owns
                    marks.append(pytest.mark.xfail(strict=True, reason=reason))
                else:  # the capture lacks what any detection needs: said, not hidden (pytest -rs)
                    marks.append(pytest.mark.skip(reason=f"not detectable from this capture: {reason}"))
            out.append(pytest.param(f, how, id=f"{rel}-{how}", marks=marks))
    return out


def _known_params():
    """One strict xfail per value an issue owns, so each turns red on its own when it is fixed."""
    out = []
    for f in FILES:
        try:
            image = load_image(f)
        except ImageError:
            continue
        how = "cli-profile" if shipped(image.profile) else "cli-auto"
        for i, p in enumerate(image.published):
            if p.known_wrong:
                reason = f"issue {p.known_wrong['issue']}: {p.point}: {p.known_wrong['reason']}"
                out.append(pytest.param(f, how, i, id=f"{f.relative_to(IMAGES).as_posix()}-{p.point}-{i}",
                                        marks=pytest.mark.xfail(strict=True, reason=reason)))
    return out


def test_corpus_is_not_empty():
    assert len(FILES) >= 1, f"no corpus images under {IMAGES}"


@pytest.mark.parametrize("path,how", _params())
def test_golden(path, how):
    image = _image(path)  # an invalid file fails here with its one-line ImageError
    if how == "load":
        return
    result = _read(image, how)
    problems = []
    if result.profile is not None and how == "cli-auto":
        want = image.profile
        if result.profile.name != want and not (want == "sunspec" and result.profile.kind == "sunspec"):
            problems.append(f"auto-detection chose {result.profile.name}, the image is {want}")
    checked = [p for p in image.published if not p.known_wrong]
    problems += [m for m in (mismatch(p, result) for p in checked) if m]
    if result.profile is None and not checked:  # an image whose source publishes no reading
        problems.append(f"PVDesk read nothing: {result.error}")
    elif not any(v is not None for v in result.values.values()):
        problems.append("PVDesk read the device but every value is n/a")
    assert not problems, (f"{image.id} via {how}: {len(problems)} of {len(checked)} published values differ:\n  "
                          + "\n  ".join(problems))


@pytest.mark.parametrize("path,how,index", _known_params())
def test_known_wrong(path, how, index):
    """A value an issue owns: it fails today (strict xfail); the day it passes, remove its ``known_wrong``."""
    image = _image(path)
    entry = image.published[index]
    problem = mismatch(entry, _read(image, how))
    assert problem is None, f"{image.id} via {how}: {problem}"
