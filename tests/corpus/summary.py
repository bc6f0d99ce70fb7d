"""Print the corpus' figures: images, vendors, real and synthetic, values checked, equal, known wrong.

Run: ``PYTHONPATH=. python -m tests.corpus.summary`` (test thread only; it starts
the replay peer for each image and reads it as ``pvdesk read --json`` does, the
profile named where PVDesk ships it, else auto-detected). docs/corpus.md quotes
its output; it is a report, not a test.
"""

from __future__ import annotations

from collections import Counter

from protocols.sim.image import corpus_files, load_image

from .golden_helpers import IMAGES, mismatch, read, shipped


def main() -> int:
    images = [load_image(f) for f in corpus_files(IMAGES)]
    kinds = Counter(i.kind for i in images)
    vendors = sorted({i.device["vendor"] for i in images if i.kind == "real"})
    checked = equal = 0
    owned: Counter = Counter()
    unexpected = []
    print(f"{'image':<40} {'vendor':<8} {'kind':<9} {'path':<11} {'values':>6} {'equal':>6}  mismatches")
    for image in images:
        how = "cli-profile" if shipped(image.profile) else "cli-auto"
        result = read(image, how)
        rows = []
        n_equal = 0
        for p in image.published:
            problem = mismatch(p, result)
            if problem is None:
                n_equal += 1
            elif p.known_wrong:
                owned[p.known_wrong["issue"]] += 1
                rows.append(f"issue {p.known_wrong['issue']}: {problem}")
            else:
                unexpected.append(f"{image.id}: {problem}")
                rows.append(f"UNEXPECTED: {problem}")
        checked += len(image.published)
        equal += n_equal
        print(f"{image.id:<40} {image.device['vendor']:<8} {image.kind:<9} {how:<11} "
              f"{len(image.published):>6} {n_equal:>6}  {len(rows)}")
        for row in rows:
            print(f"    {row}")
    print(f"\nimages {len(images)} (real {kinds['real']}, synthetic {kinds['synthetic']}); "
          f"vendors {len(vendors)}: {', '.join(vendors)}")
    print(f"published values checked {checked}, equal {equal}, mismatches {checked - equal} "
          f"({', '.join(f'issue {k}: {v}' for k, v in sorted(owned.items())) or 'none owned'}; "
          f"unexpected {len(unexpected)})")
    return 1 if unexpected else 0


if __name__ == "__main__":
    raise SystemExit(main())
