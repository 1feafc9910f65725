"""An organisation's team tree as plain data: the one walker over (id, parent_id) links.

No Django: the services, selectors, report pages and roll-ups all build a ``Tree``
from rows they have read, and ask it for descendants, ancestors or a display
order. A link to a parent that is not among the rows makes the node a root, and a
loop in the links (which the services never write) cannot make a walk run forever.
The SQL counterpart, for a request that must not read the whole tree, is
``access._descendants`` (a recursive query).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any


class Tree:
    """Parent and children links of a set of nodes (ids)."""

    def __init__(self, links: Iterable[tuple[int, int | None]]):
        self.parent: dict[int, int | None] = dict(links)
        self._children: dict[int | None, list[int]] = {}
        for node, parent in self.parent.items():
            key = parent if parent in self.parent else None
            self._children.setdefault(key, []).append(node)

    def __len__(self) -> int:
        return len(self.parent)

    def roots(self) -> list[int]:
        """Nodes without a (known) parent."""
        return list(self._children.get(None, []))

    def children(self, node: int | None) -> list[int]:
        """The direct children of ``node`` (of the roots' level when None)."""
        return list(self._children.get(node, []))

    def descendants(self, node: int) -> set[int]:
        """Every node under ``node``, at any depth (``node`` itself excluded)."""
        found: set[int] = set()
        frontier = [node]
        while frontier:
            for child in self._children.get(frontier.pop(), ()):
                if child not in found and child != node:
                    found.add(child)
                    frontier.append(child)
        return found

    def subtree(self, node: int | None) -> set[int]:
        """``node`` and every node under it; every node when ``node`` is None."""
        if node is None:
            return set(self.parent)
        return {node, *self.descendants(node)}

    def ancestors(self, node: int) -> list[int]:
        """The proper ancestors of ``node``, nearest first."""
        chain: list[int] = []
        seen = {node}
        up = self.parent.get(node)
        while up is not None and up in self.parent and up not in seen:
            chain.append(up)
            seen.add(up)
            up = self.parent.get(up)
        return chain

    def walk(
        self, sort_key: Callable[[int], Any] | None = None
    ) -> Iterator[tuple[int, int]]:
        """Depth-first ``(node, depth)``, parents before children; siblings in
        ``sort_key`` order (else in the order the links came in)."""
        seen: set[int] = set()

        def visit(parent: int | None, depth: int) -> Iterator[tuple[int, int]]:
            siblings = self._children.get(parent, [])
            for node in sorted(siblings, key=sort_key) if sort_key else siblings:
                if node in seen:
                    continue
                seen.add(node)
                yield node, depth
                yield from visit(node, depth + 1)

        yield from visit(None, 0)
