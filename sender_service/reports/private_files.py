"""Files under exports/ hold personal data: folders 0700 and files 0600, whatever the umask."""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO, Final

FOLDER_MODE: Final = 0o700
FILE_MODE: Final = 0o600


def private_folder(root: Path, *parts: str) -> Path:
    """`root/parts...`, each of `parts` made (or narrowed to) 0700 for the owner only. `root`
    is created 0700 when missing but an existing one is left as its operator set it."""
    root.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    folder = root
    for part in parts:
        folder = folder / part
        folder.mkdir(mode=FOLDER_MODE, exist_ok=True)
        folder.chmod(FOLDER_MODE)  # mkdir's mode is cut by the umask and skips existing ones
    return folder


def open_private(path: Path) -> BinaryIO:
    """A new (or emptied) file open for writing, readable by the owner only from its birth."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    os.fchmod(descriptor, FILE_MODE)  # an existing file keeps its old mode through O_CREAT
    return os.fdopen(descriptor, "wb")


def write_private(path: Path, data: bytes) -> None:
    with open_private(path) as out:
        out.write(data)
