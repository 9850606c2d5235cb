"""The workspace's OKR tree as the digest reads it: loaded once, any OKR rolled up to its objective."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from functools import cached_property

from storage.models import Okr


class _Okrs:
    """The workspace's OKR tree, loaded once; rolls any OKR up to its objective."""

    def __init__(self, rows: Iterable[Okr], since: datetime) -> None:
        self.by_id = {r.id: r for r in rows}
        self._root: dict[int, int | None] = {}
        self.since = since

    def root(self, okr_id: int) -> Okr | None:
        """The objective at the top of `okr_id`'s tree; None when an OKR on the way up was archived
        before the period began (it is no longer strategy)."""
        if okr_id not in self._root:
            chain: list[Okr] = []
            current = self.by_id.get(okr_id)
            while current is not None and all(c.id != current.id for c in chain):
                chain.append(current)
                current = self.by_id.get(current.parent_id) if current.parent_id else None
            archived = any(o.archived_at is not None and o.archived_at <= self.since for o in chain)
            self._root[okr_id] = chain[-1].id if chain and not archived else None
        found = self._root[okr_id]
        return self.by_id[found] if found is not None else None

    @cached_property
    def trees(self) -> dict[int, list[int]]:
        """Objective id -> the ids of the OKRs under it, itself included, for the objectives the
        digest covers (not archived before the period)."""
        trees: dict[int, list[int]] = defaultdict(list)
        for okr_id in self.by_id:
            root = self.root(okr_id)
            if root is not None:
                trees[root.id].append(okr_id)
        return trees

    @cached_property
    def live_ids(self) -> list[int]:
        """Ids of the OKRs the digest covers (not under an objective archived before the period)."""
        return [okr_id for ids in self.trees.values() for okr_id in ids]

    def objectives(self) -> list[Okr]:
        return [o for o in self.by_id.values() if o.parent_id is None and self.root(o.id) is not None]

    def key(self, okr_id: int) -> str:
        found = self.by_id.get(okr_id)
        return found.key if found else "?"

    def owners(self, okr_id: int) -> tuple[str, ...]:
        """The OKR's owner, then its parents' owners (the people who decide about its requests)."""
        result: list[str] = []
        current = self.by_id.get(okr_id)
        seen: set[int] = set()
        while current is not None and current.id not in seen:
            seen.add(current.id)
            if current.owner_id and current.owner_id not in result:
                result.append(current.owner_id)
            current = self.by_id.get(current.parent_id) if current.parent_id else None
        return tuple(result)

    def governance_channel(self, okr_id: int, default: str | None) -> str | None:
        current = self.by_id.get(okr_id)
        seen: set[int] = set()
        while current is not None and current.id not in seen:
            seen.add(current.id)
            if current.governance_channel:
                return current.governance_channel
            current = self.by_id.get(current.parent_id) if current.parent_id else None
        return default

    def period(self, okr: Okr) -> str | None:
        current: Okr | None = okr
        seen: set[int] = set()
        while current is not None and current.id not in seen:
            seen.add(current.id)
            if current.period:
                return current.period
            current = self.by_id.get(current.parent_id) if current.parent_id else None
        return None
