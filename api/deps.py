"""Dependencies. The runtime is provided by `create_app` through `dependency_overrides`, never a global."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from core.runtime import Runtime


def get_runtime() -> Runtime:
    raise RuntimeError("create_app() provides the runtime; this app was built without it")


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
