"""The algorithm base class: a configured object with one verb (after tpcp / gaitmap / mobgap).

Every parameter is an ``__init__`` argument stored verbatim under the same name and annotated at class
level with its unit in its name; ``__init__`` holds no logic. The verb (``detect``, ``estimate`` ...)
returns ``self`` and stores results in trailing-underscore attributes. ``get_params`` / ``clone`` /
``to_json`` / ``from_json`` work from the ``__init__`` signature.
"""

from __future__ import annotations

import inspect
import json
from typing import Any, ClassVar, Self

__all__ = ["Algorithm"]


class Algorithm:
    """Base of every stage algorithm. Subclasses set ``_action_method`` to the name of their verb."""

    _action_method: ClassVar[str] = ""

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def get_params(self) -> dict[str, Any]:
        """The ``__init__`` arguments as stored."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> Self:
        names = set(self._param_names())
        for key, value in params.items():
            if key not in names:
                raise ValueError(
                    f"Invalid parameter {key!r} for {type(self).__name__}. Allowed parameters are "
                    f"{', '.join(sorted(names))}."
                )
            setattr(self, key, value)
        return self

    def clone(self) -> Self:
        """A fresh, un-run copy with the same parameters (results are not copied)."""
        return type(self)(**self.get_params())

    def to_json(self) -> str:
        return json.dumps({"algorithm": type(self).__name__, "params": self.get_params()}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Self:
        obj = json.loads(text)
        if obj.get("algorithm") != cls.__name__:
            raise ValueError(f"JSON describes {obj.get('algorithm')!r}, not {cls.__name__}")
        return cls(**obj["params"])

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"
