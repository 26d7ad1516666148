"""The vendored validation sets: one compressed archive, unpacked on first use.

The R outputs and the data they were computed on (simulated trials, published
single-case data, meta-analyses, power scenarios, peer packages' example data) travel
with the repository as ``tests/reference/validation.tar.xz``; ``VALIDATION.md`` beside
it says where each set came from and which R package versions made it. Tests (through
``tests/conftest.py``) and benchmarks import :data:`VALIDATION_DIR` from here.
"""

from __future__ import annotations

import hashlib
import lzma
import tarfile
from pathlib import Path

REFERENCE_DIR = Path(__file__).resolve().parent
VALIDATION_ARCHIVE = REFERENCE_DIR / "validation.tar.xz"
#: Where the archive is unpacked (git-ignored); unpacked again whenever the archive changes.
UNPACKED_ROOT = REFERENCE_DIR / "_unpacked"
VALIDATION_DIR = UNPACKED_ROOT / "validation"


def unpack_validation() -> Path:
    """Unpack the archive unless this version of it is already unpacked; return its folder."""
    digest = hashlib.sha256(VALIDATION_ARCHIVE.read_bytes()).hexdigest()
    stamp = UNPACKED_ROOT / "archive.sha256"
    if VALIDATION_DIR.is_dir() and stamp.is_file() and stamp.read_text() == digest:
        return VALIDATION_DIR
    UNPACKED_ROOT.mkdir(exist_ok=True)
    with lzma.open(VALIDATION_ARCHIVE) as raw, tarfile.open(fileobj=raw) as tar:
        tar.extractall(UNPACKED_ROOT, filter="data")
    stamp.write_text(digest)
    return VALIDATION_DIR
