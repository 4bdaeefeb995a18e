"""The story index: recent signatures, searchable for the most similar one.

Signatures live in one numpy matrix (a row per mention) and times in one vector, so
that comparing a new mention with its LSH candidates is a few array operations
whatever their number: a story syndicated by 200 sites gives 200 candidates.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

from veilleur.analysis.dedup import DEFAULT_PARAMS, DedupParams
from veilleur.analysis.minhash import BandTable, Signature, similarity

K = TypeVar("K", bound=Hashable)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _seconds(at: datetime) -> float:
    return (at - _EPOCH).total_seconds()


@dataclass(frozen=True)
class Match(Generic[K]):
    """The most similar earlier mention found for a new one."""

    key: K
    story: Hashable | None
    similarity: float


class StoryIndex(Generic[K]):
    """Signatures of recent mentions, searchable for near-duplicates.

    Keys are the caller's (mention ids). A match must lie within ``window`` of the new
    mention's time, before or after, and reach ``params.threshold``. The index keeps
    no clock: times are arguments (aware datetimes), and :meth:`expire` / :meth:`trim`
    bound its size. Rebuild it after a restart with :meth:`load` from stored signatures.
    """

    def __init__(
        self, params: DedupParams = DEFAULT_PARAMS, window: timedelta = timedelta(days=7)
    ) -> None:
        self.params = params
        self.window = window
        # The LSH table holds slots (rows of the matrix), not keys: candidates index the
        # arrays directly.
        self._table: BandTable[int] = BandTable(params.bands, params.rows, params.bucket_cap)
        self._last: tuple[Signature, list[bytes]] | None = None
        self._anchors: dict[Hashable, K] = {}
        self._slot: dict[K, int] = {}
        self._keys: list[K | None] = []
        self._stories: list[Hashable | None] = []
        self._free: list[int] = []
        self._signatures: npt.NDArray[np.uint32] = np.zeros((64, params.num_perm), np.uint32)
        self._times = np.zeros(64, dtype=np.float64)
        self._seqs = np.zeros(64, dtype=np.int64)
        self._seq = 0

    @classmethod
    def load(
        cls,
        rows: Iterable[tuple[K, bytes | memoryview | None, datetime, Hashable | None]],
        params: DedupParams = DEFAULT_PARAMS,
        window: timedelta = timedelta(days=7),
    ) -> StoryIndex[K]:
        """An index of stored ``(key, signature bytes, time, story)`` rows, oldest first.

        Rows without a signature, or with one made with other parameters, are skipped.
        """
        index: StoryIndex[K] = cls(params, window)
        for key, data, at, story in rows:
            signature = params.hasher.from_bytes(data)
            if signature is not None:
                index.add(key, signature, at, story)
        return index

    def __len__(self) -> int:
        return len(self._slot)

    def __contains__(self, key: object) -> bool:
        return key in self._slot

    def add(
        self, key: K, signature: Signature, at: datetime, story: Hashable | None = None
    ) -> None:
        """Index a mention (adding a known key again replaces it)."""
        self.remove(key)
        slot = self._free.pop() if self._free else self._new_slot()
        self._seq += 1
        self._slot[key] = slot
        self._keys[slot] = key
        self._stories[slot] = story
        self._signatures[slot] = signature
        self._times[slot] = _seconds(at)
        self._seqs[slot] = self._seq
        self._table.insert(slot, signature, self._bands(signature))

    def _bands(self, signature: Signature) -> list[bytes]:
        # match() then add() of the same signature: cut it into bands once.
        if self._last is None or self._last[0] is not signature:
            self._last = (signature, self._table.band_keys(signature))
        return self._last[1]

    def _new_slot(self) -> int:
        slot = len(self._keys)
        if slot == len(self._times):
            grow = len(self._times)
            self._signatures = np.concatenate([self._signatures, np.zeros_like(self._signatures)])
            self._times = np.concatenate([self._times, np.zeros(grow)])
            self._seqs = np.concatenate([self._seqs, np.zeros(grow, dtype=np.int64)])
        self._keys.append(None)
        self._stories.append(None)
        return slot

    def remove(self, key: K) -> None:
        """Forget a mention; unknown keys are ignored."""
        slot = self._slot.pop(key, None)
        if slot is None:
            return
        self._table.remove(slot, self._signatures[slot])
        self._keys[slot] = None
        self._stories[slot] = None
        self._free.append(slot)

    def rekey(self, old: K, new: K) -> None:
        """Give an indexed mention another key (its id, once stored); cheap: the LSH
        table holds rows, not keys."""
        slot = self._slot.pop(old, None)
        if slot is None:
            return
        self.remove(new)
        self._slot[new] = slot
        self._keys[slot] = new

    def story_of(self, key: K) -> Hashable | None:
        slot = self._slot.get(key)
        return None if slot is None else self._stories[slot]

    def set_story(self, key: K, story: Hashable | None) -> None:
        slot = self._slot.get(key)
        if slot is not None:
            self._stories[slot] = story

    def set_anchor(self, story: Hashable, key: K) -> None:
        """Name the member a story's newcomers must also resemble (its first mention)."""
        self._anchors[story] = key

    def forget_anchor(self, story: Hashable) -> None:
        """Drop a story's anchor (a provisional label replaced by the real story)."""
        self._anchors.pop(story, None)

    def _anchor_allows(self, signature: Signature, story: Hashable | None) -> bool:
        # Without this check grouping is single-link: A~B and B~C put A and C in one
        # story however different they are, and stories of short texts drift into
        # "anything about customer service". An anchor out of the index allows.
        if not self.params.anchored or story is None or story not in self._anchors:
            return True
        slot = self._slot.get(self._anchors[story])
        return slot is None or (
            similarity(signature, self._signatures[slot]) >= self.params.threshold
        )

    def match(self, signature: Signature, at: datetime) -> Match[K] | None:
        """The most similar indexed mention within the window, if above the threshold.

        When the candidate belongs to a story with a known anchor, the new mention must
        also reach the threshold against that anchor. Ties go to the earliest mention.
        """
        candidates = self._table.candidates(signature, self._bands(signature))
        if not candidates:
            return None
        slots = np.fromiter(candidates, np.int64, count=len(candidates))
        agree = np.count_nonzero(self._signatures[slots] == signature, axis=1)
        close = np.flatnonzero(agree >= self.params.threshold * signature.size)
        if close.size == 0:
            return None
        # Within the window; then most similar first, then earliest, then first indexed
        # (ranked in numpy: template-heavy sources give hundreds of close candidates).
        near = slots[close]
        near_agree = agree[close]
        times = self._times[near]
        inside = np.abs(times - _seconds(at)) <= self.window.total_seconds()
        near, near_agree, times = near[inside], near_agree[inside], times[inside]
        for n in np.lexsort((self._seqs[near], times, -near_agree)).tolist():
            slot = int(near[n])
            story = self._stories[slot]
            if self._anchor_allows(signature, story):
                key = self._keys[slot]
                assert key is not None
                return Match(key=key, story=story, similarity=int(near_agree[n]) / signature.size)
        return None

    def group(self, key: K, signature: Signature | None, at: datetime) -> Hashable:
        """Match and add in one step; returns the story label (the key of its first member).

        Pure grouping for scripts and evaluations; the pipeline keeps stories in the
        database instead (``veilleur.monitoring.stories``). As there, a mention alone
        has no story until a second one joins it.
        """
        if signature is None:
            return key
        found = self.match(signature, at)
        if found is None:
            self.add(key, signature, at, None)
            return key
        story = found.story
        if story is None:
            story = found.key
            self.set_story(found.key, story)
            self.set_anchor(story, found.key)
        self.add(key, signature, at, story)
        return story

    def expire(self, before: datetime) -> int:
        """Forget mentions older than ``before``; returns how many were dropped."""
        limit = _seconds(before)
        old = [key for key, slot in self._slot.items() if self._times[slot] < limit]
        for key in old:
            self.remove(key)
        return len(old)

    def trim(self, max_entries: int) -> datetime | None:
        """Keep at most ``max_entries`` (the newest); returns the oldest time kept."""
        if len(self._slot) > max_entries:
            ranked = sorted(self._slot.items(),
                            key=lambda kv: (self._times[kv[1]], self._seqs[kv[1]]))
            for key, _slot in ranked[: len(ranked) - max_entries]:
                self.remove(key)
        return self.oldest()

    def oldest(self) -> datetime | None:
        """The time of the oldest indexed mention, or None when empty."""
        if not self._slot:
            return None
        seconds = min(self._times[slot] for slot in self._slot.values())
        return _EPOCH + timedelta(seconds=float(seconds))
