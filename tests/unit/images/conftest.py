"""The image builds' Python modules are scripts' neighbours, not a package: put their folders on
the path as the build scripts do."""
import sys
from pathlib import Path

IMAGES = Path(__file__).resolve().parents[3] / "images"
for folder in ("lib", "overcloud-node"):
    if str(IMAGES / folder) not in sys.path:
        sys.path.insert(0, str(IMAGES / folder))
