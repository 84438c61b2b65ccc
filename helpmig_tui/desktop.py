"""Opening a folder in the operator's file manager (Explorer on Windows)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


def open_folder(folder: Path) -> bool:
    """Open `folder` in the file manager; False when there is none (Server Core, a console
    over SSH), so the caller shows the path instead."""
    folder.mkdir(parents=True, exist_ok=True)
    if sys.platform == "win32":
        try:
            os.startfile(folder)  # type: ignore[attr-defined]
        except OSError:  # Server Core has no Explorer: "no application is associated"
            return False
        return True
    opener = shutil.which("open" if sys.platform == "darwin" else "xdg-open")
    if opener is None:
        return False
    try:
        subprocess.Popen([opener, str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except OSError:
        return False
    return True
