"""A pytest fixture factory for the model server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from gitorch.testing.model_server.server import ModelServer


def model_server_fixture(name: str = "model_server", **kwargs: Any) -> Any:
    """Build a function-scoped pytest fixture yielding a started :class:`ModelServer`.

    In a conftest: ``model_server = model_server_fixture()``. Keyword arguments go to
    :class:`ModelServer` (``default=None`` makes unscripted agent requests fail with HTTP 500).
    """
    import pytest

    @pytest.fixture(name=name)
    def _fixture() -> Iterator[ModelServer]:
        with ModelServer(**kwargs) as server:
            yield server

    return _fixture
