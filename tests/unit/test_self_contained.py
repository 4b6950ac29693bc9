"""A clone alone is the product: nothing in it reaches for the team's shared notes beside the
checkout, a sibling folder of the clone, or a path of the machine it was written on."""
import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Paths the product owns on a host (/var/lib/stackbox, /etc/stackbox, ~/.cache/stackbox) are
# fine; these point outside the clone.
OUTSIDE = re.compile(r"\.\./shared|/work/|REPO\.parent|\.parents?\[?\d*\]? */ *\"shared\"|"
                     r"/home/[a-z]")


def test_nothing_reads_outside_the_clone():
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                           cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    found = []
    for name in files:
        path = REPO / name
        if name == "tests/unit/test_self_contained.py" or not path.is_file():
            continue
        text = path.read_bytes()
        if b"\0" in text:
            continue  # binary
        for number, line in enumerate(text.decode(errors="replace").splitlines(), 1):
            if OUTSIDE.search(line):
                found.append(f"{name}:{number}: {line.strip()}")
    assert not found, "lines that reach outside the clone:\n" + "\n".join(found)


def test_the_docs_the_readme_points_to_are_in_the_clone():
    readme = (REPO / "README.md").read_text()
    for target in re.findall(r"\]\(([^)#]+)\)|`((?:docs|images|playbooks|tests)/[\w./-]+\.md)`",
                             readme):
        name = next(part for part in target if part)
        if "://" not in name:
            assert (REPO / name).exists(), f"README points to {name}, which is not in the clone"
