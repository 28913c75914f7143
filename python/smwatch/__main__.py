"""python -m smwatch [run|report|explain|doctor] ...  -- the smwatch command of
this environment; python -m smwatch smscan ... -- smscan.

SMWATCH_PYTHON is set to this interpreter (unless already set), so that
`python -m smwatch doctor` inspects the environment of the Python that ran it,
as `python -m torch.utils.collect_env` does."""

import os
import sys

from . import program


def main(argv=None):
    args = list(sys.argv[1:] if argv is None else argv)
    name = "smwatch"
    if args and args[0] == "smscan":
        name = args.pop(0)
    path = program(name)
    if path is None:
        sys.stderr.write("smwatch: the %s program of this installation is not found (reinstall: pip install --force-reinstall smwatch)\n" % name)
        return 127
    env = dict(os.environ)
    env.setdefault("SMWATCH_PYTHON", sys.executable)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(path, [path] + args, env)
    return 127  # not reached


if __name__ == "__main__":
    sys.exit(main())
