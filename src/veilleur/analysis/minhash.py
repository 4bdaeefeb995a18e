"""MinHash signatures and a banded LSH table: the machinery behind near-duplicate stories.

MinHash (Broder, 1997) turns a set of shingles into ``num_perm`` small integers such
that two sets agree on any one position with probability equal to their Jaccard
similarity; the fraction of agreeing positions is therefore an unbiased estimate of
it. Locality-sensitive hashing (banding) finds, without comparing against every stored
signature, the ones likely to be similar: the signature is cut into ``bands`` bands
of ``rows`` values, and two signatures are candidates when any band is identical.

Each shingle is first hashed to 32 bits (CRC-32: fast and stable across processes
and versions, unlike ``hash()``); the ``num_perm`` hash functions are then
Dietzfelbinger's multiply-add-shift family ``((a*x + b) mod 2**64) >> 32``, which is
2-independent for 32-bit keys and costs one multiplication per value, done by numpy
for the whole set at once. (``(a*x + b) mod p`` with small ``a``, a common shortcut,
gives correlated functions: estimates then stop improving with more permutations.)
The parameters come from SHA-256 of a fixed seed, never from a random number
generator whose stream could change with a library upgrade: stored signatures must
stay comparable with the ones computed years later.
"""

from __future__ import annotations

import hashlib
import itertools
import zlib
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

Signature = npt.NDArray[np.uint32]
K = TypeVar("K", bound=Hashable)

_SHIFT = np.uint64(32)
SEED = b"veilleur-minhash-v1"


@dataclass(frozen=True)
class MinHasher:
    """Computes signatures of ``num_perm`` 32-bit values for sets of shingles."""

    num_perm: int = 128
    _a: npt.NDArray[np.uint64] = field(init=False, repr=False, compare=False)
    _b: npt.NDArray[np.uint64] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not 1 <= self.num_perm <= 1024:
            raise ValueError("num_perm must be between 1 and 1024")
        a, b = [], []
        for n in range(self.num_perm):
            digest = hashlib.sha256(SEED + n.to_bytes(4, "little")).digest()
            a.append(int.from_bytes(digest[:8], "little") | 1)  # odd, as the scheme wants
            b.append(int.from_bytes(digest[8:16], "little"))
        object.__setattr__(self, "_a", np.array(a, dtype=np.uint64))
        object.__setattr__(self, "_b", np.array(b, dtype=np.uint64))

    def signature(self, shingles: Iterable[str]) -> Signature | None:
        """The MinHash of a set of shingles, or None for an empty set."""
        hashes = np.fromiter(
            {zlib.crc32(s.encode("utf-8")) for s in shingles}, dtype=np.uint64
        )
        if hashes.size == 0:
            return None
        # uint64 arithmetic wraps modulo 2**64, which is exactly the scheme's "mod".
        permuted = (np.outer(hashes, self._a) + self._b) >> _SHIFT
        signature: Signature = permuted.min(axis=0).astype(np.uint32)
        return signature

    def signatures(self, shingle_sets: Iterable[Iterable[str]]) -> list[Signature | None]:
        """:meth:`signature` of many sets in one numpy pass (a batch of mentions).

        Same results as one call per set; per-call overhead dominates short texts.
        """
        hashed = [{zlib.crc32(s.encode("utf-8")) for s in shingles} for shingles in shingle_sets]
        sizes = [len(h) for h in hashed]
        out: list[Signature | None] = [None] * len(hashed)
        if not any(sizes):
            return out
        flat = np.fromiter(itertools.chain.from_iterable(hashed), dtype=np.uint64,
                           count=sum(sizes))
        permuted = (np.outer(flat, self._a) + self._b) >> _SHIFT
        starts = np.cumsum([0, *sizes[:-1]])
        present = [n for n, size in enumerate(sizes) if size]
        minima = np.minimum.reduceat(permuted, starts[present], axis=0).astype(np.uint32)
        for row, n in enumerate(present):
            out[n] = minima[row]
        return out

    def to_bytes(self, signature: Signature) -> bytes:
        """Compact storage: ``4 * num_perm`` bytes, little-endian."""
        return signature.astype("<u4").tobytes()

    def from_bytes(self, data: bytes | memoryview | None) -> Signature | None:
        """A stored signature, or None when missing or made with other parameters."""
        if data is None or len(data) != 4 * self.num_perm:
            return None
        return np.frombuffer(bytes(data), dtype="<u4").astype(np.uint32)


def similarity(first: Signature, second: Signature) -> float:
    """Estimated Jaccard similarity: the fraction of positions where both agree."""
    if first.shape != second.shape or first.size == 0:
        return 0.0
    return float(np.count_nonzero(first == second)) / float(first.size)


@dataclass
class BandTable(Generic[K]):
    """LSH over MinHash signatures: ``bands`` hash tables of ``rows``-value bands.

    With ``b`` bands of ``r`` rows, two sets of Jaccard similarity ``s`` become
    candidates with probability ``1 - (1 - s**r)**b``. Each bucket keeps its newest
    ``bucket_cap`` keys only: a copy-paste campaign of 10,000 identical posts must not
    make every lookup compare against 10,000 signatures, and the newest members
    represent the campaign as well as the oldest.
    """

    bands: int
    rows: int
    bucket_cap: int = 32
    _tables: list[dict[bytes, list[K]]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.bands < 1 or self.rows < 1 or self.bucket_cap < 1:
            raise ValueError("bands, rows and bucket_cap must be positive")
        self._tables = [{} for _ in range(self.bands)]

    def band_keys(self, signature: Signature) -> list[bytes]:
        """The signature's bands as hashable keys (compute once, use for both calls)."""
        width = self.bands * self.rows
        if signature.size < width:
            raise ValueError(f"signature has {signature.size} values, bands need {width}")
        # One bytes object per band, in a single numpy call.
        bands = np.ascontiguousarray(signature[:width]).reshape(self.bands, self.rows)
        return [row.tobytes() for row in bands]

    def insert(self, key: K, signature: Signature, bands: list[bytes] | None = None) -> None:
        """Index ``key`` under each of its bands (oldest keys leave full buckets)."""
        for table, band in zip(self._tables, bands or self.band_keys(signature), strict=True):
            bucket = table.setdefault(band, [])
            bucket.append(key)
            if len(bucket) > self.bucket_cap:
                del bucket[0]

    def remove(self, key: K, signature: Signature) -> None:
        """Forget ``key``; keys already pushed out of a bucket are skipped."""
        for table, band in zip(self._tables, self.band_keys(signature), strict=True):
            bucket = table.get(band)
            if bucket is None:
                continue
            try:
                bucket.remove(key)
            except ValueError:
                continue
            if not bucket:
                del table[band]

    def candidates(self, signature: Signature, bands: list[bytes] | None = None) -> set[K]:
        """Keys sharing at least one band with ``signature``."""
        found: set[K] = set()
        for table, band in zip(self._tables, bands or self.band_keys(signature), strict=True):
            bucket = table.get(band)
            if bucket:
                found.update(bucket)
        return found


def candidate_probability(similarity: float, bands: int, rows: int) -> float:
    """The chance that two sets with this Jaccard similarity share a band."""
    return 1.0 - (1.0 - similarity**rows) ** bands
