"""smwatch: find CUDA code that cannot run on your GPU.

The wheel installs native programs (no extension module): ``smscan`` and
``smwatch`` in the environment's bin/, ``libsmwatch.so`` in its lib/. This
package finds them, so ``python -m smwatch ...`` runs the smwatch command of
this environment (``python -m smwatch smscan ...`` runs smscan)."""

import os
import shutil
import sys
import sysconfig

__version__ = "0.1.0"

__all__ = ["program", "shim_path", "__version__"]


def _schemes():
    # This interpreter's default install scheme first, then the user scheme
    # (pip install --user puts the programs in ~/.local/bin).
    yield None
    user = os.name + "_user"
    if user in sysconfig.get_scheme_names():
        yield user


def _candidates(key, *parts):
    for scheme in _schemes():
        try:
            base = sysconfig.get_path(key, scheme) if scheme else sysconfig.get_path(key)
        except KeyError:
            continue
        if base:
            yield os.path.join(base, *parts)


def program(name="smwatch"):
    """Path of an installed program ("smwatch" or "smscan"), or None."""
    for path in _candidates("scripts", name):
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    # A venv's bin/ next to the interpreter, then PATH.
    path = os.path.join(os.path.dirname(sys.executable), name)
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return path
    return shutil.which(name)


def shim_path():
    """Path of the installed libsmwatch.so (for LD_PRELOAD), or None."""
    for path in _candidates("data", "lib", "libsmwatch.so"):
        if os.path.isfile(path):
            return path
    prog = program("smwatch")
    if prog:
        path = os.path.join(os.path.dirname(os.path.realpath(prog)), os.pardir, "lib", "libsmwatch.so")
        if os.path.isfile(path):
            return os.path.normpath(path)
    return None
