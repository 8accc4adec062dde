"""A store installed without the optional extras (``bazaar[nats]``, ``bazaar[s3]``) still starts.

``make run`` installs only the core dependencies, so no module may import nats-py or boto3 at
import time; they are imported when a NATS sink or an S3 blob store is actually configured.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

_BLOCK_EXTRAS_AND_IMPORT_EVERYTHING = textwrap.dedent(
    """
    import importlib, importlib.abc, pkgutil, sys

    OPTIONAL = ("nats", "boto3", "botocore")

    class Missing(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in OPTIONAL:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Missing())
    import bazaar

    failed = []
    for module in pkgutil.walk_packages(bazaar.__path__, "bazaar."):
        if ".migrations." in module.name:
            continue
        try:
            importlib.import_module(module.name)
        except ModuleNotFoundError as exc:
            failed.append(f"{module.name}: {exc}")
    print("\\n".join(failed))
    sys.exit(1 if failed else 0)
    """
)


def test_every_module_imports_without_the_optional_extras() -> None:
    # Given nats-py and boto3 cannot be imported, when every bazaar module is imported
    result = subprocess.run(  # noqa: S603 (our own interpreter and a fixed script)
        [sys.executable, "-c", _BLOCK_EXTRAS_AND_IMPORT_EVERYTHING],
        capture_output=True,
        text=True,
        timeout=120,
    )
    # Then none of them needs an extra at import time
    assert result.returncode == 0, result.stdout + result.stderr
