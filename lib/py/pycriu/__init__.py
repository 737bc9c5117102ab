# SPDX-License-Identifier: GPL-2.0
"""pycriu: criu's images (pycriu.images) and its RPC client (pycriu.criu).

Built into build/py/pycriu by `make pycriu` (lib/py/Makefile.inc), which
adds the generated parts: images/images.desc (every images/*.proto) and
images/magics.py (from criu/include/objects.def).
"""
from . import images  # noqa: F401
from . import criu  # noqa: F401
