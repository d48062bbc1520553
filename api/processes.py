"""Server processes that do not outlive their supervisor: a uvicorn worker asks Linux for
SIGTERM when its parent dies (a SIGKILLed parent cannot tell it), so no orphan keeps the port
and the next start can bind it. SIGTERM then drains the worker as usual."""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def exit_with_parent() -> None:
    """In a worker that multiprocessing started (uvicorn --workers N); else nothing: a single
    process's parent is a shell or systemd, whose exit need not stop it."""
    parent = multiprocessing.parent_process()
    if parent is None or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent.pid:  # it died before we asked
        os.kill(os.getpid(), signal.SIGTERM)
