"""Write docs/model.md from the layer files (src/raadsim/model/layers/*.toml).

    python scripts/model_docs.py          # rewrite docs/model.md
    python scripts/model_docs.py --check  # exit 1 when docs/model.md is stale
"""

from __future__ import annotations

import sys
from pathlib import Path

from raadsim.model.layer_docs import model_markdown

DOC = Path(__file__).resolve().parents[1] / "docs" / "model.md"


def main(argv: list[str]) -> int:
    text = model_markdown()
    if "--check" in argv:
        current = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
        if current != text:
            print(f"{DOC} is stale: run python scripts/model_docs.py")
            return 1
        return 0
    tmp = DOC.with_suffix(".md.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(DOC)
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
