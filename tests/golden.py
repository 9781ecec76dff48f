"""Regenerate the golden trees: `python -m tests.golden` (make golden). Review the diff."""

from __future__ import annotations

from pathlib import Path

from slogen import api

CASES = Path(__file__).parent / "cases"


def cases() -> list[Path]:
    return sorted(p for p in CASES.iterdir() if (p / "slo").is_dir())


def build(case: Path) -> dict[str, bytes]:
    options = api.Options(spec_dir=case / "slo", out_dir=case / "out", templates=None)
    return api.build_tree(api.load_model(options), None)


def main() -> None:
    for case in cases():
        outcome = api.generate(api.Options(spec_dir=case / "slo", out_dir=case / "out", templates=None))
        print(f"{case.name}: {len(outcome.tree)} files, {len(outcome.changed)} changed")


if __name__ == "__main__":
    main()
