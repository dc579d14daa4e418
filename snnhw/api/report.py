"""The API's results: :class:`Report` (fields, ``to_dict``, ``repr``, an HTML table)."""

from __future__ import annotations

import html

__all__ = ["Report"]


class Report:
    """A result: its fields as attributes and :meth:`to_dict`; ``repr`` shows the scalar
    fields, ``_repr_html_`` a table of them (notebooks)."""

    def __init__(self, kind: str, data: dict):
        self._kind, self._data = kind, dict(data)

    def __getattr__(self, name):
        try:
            return self.__dict__["_data"][name]
        except KeyError:
            raise AttributeError(f"{self._kind} has no field {name!r} (it has "
                                 f"{', '.join(self._data)})") from None

    def __dir__(self):
        return [*super().__dir__(), *self._data]

    def to_dict(self) -> dict:
        return dict(self._data)

    def _scalars(self) -> dict:
        return {k: v for k, v in self._data.items()
                if v is None or isinstance(v, (bool, int, float, str))}

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self._scalars().items())
        return f"{self._kind}({fields})"

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
                       f"<td>{html.escape(str(v))}</td></tr>"
                       for k, v in self._scalars().items())
        return f"<table><caption>{html.escape(self._kind)}</caption>{rows}</table>"
