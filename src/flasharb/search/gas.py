"""Gas of one `executeArb` transaction, per hop kind, and its fit on receipts.

    gas = base + per_v2_hop * #V2 + per_v3_hop * #V3 + per_tick_crossed * #ticks
          + per_balancer_hop * #Balancer + via_diamond * #(V3 or Balancer hops after the first)
          + v3_flash / v2_flash when a V3 pool or a V2 pair lends instead of the Vault

(V3 and Balancer hops after the first take their input from the diamond, which measures and
pays it out again; a V2 hop's input was sent straight to the pair by the hop before.)

`fit` solves the least-squares problem over receipts exactly, in rationals (the normal
equations with `Fraction`), and rounds each figure to the nearest gas unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from flasharb.errors import FlasharbValueError
from flasharb.search.cycles import Cycle, CycleIndex
from flasharb.search.graph import BALANCER, HOP_KINDS, UNISWAP_V2, UNISWAP_V3

__all__ = ["GasModel", "GasSample"]


@dataclass(frozen=True, slots=True, kw_only=True)
class GasSample:
    """One receipt: what the route did, and the gas it used."""

    uniswap_v2_hops: int = 0
    uniswap_v3_hops: int = 0
    ticks_crossed: int = 0  # initialized V3 ticks crossed, over all V3 hops
    balancer_hops: int = 0
    via_diamond: int = 0  # V3 or Balancer hops after the first
    v3_flash: int = 0  # 1 if a V3 pool lent the input
    v2_flash: int = 0  # 1 if a V2 pair lent it (flash swap)
    gas_used: int

    @classmethod
    def of(
        cls, cycle: Cycle, gas_used: int, ticks_crossed: int = 0, source: str = "balancer_v2"
    ) -> GasSample:
        """The sample of a trade along `cycle`, funded by `source` (a FlashPlan source)."""
        kinds = [hop.kind for hop in cycle.hops]
        return cls(
            uniswap_v2_hops=kinds.count(UNISWAP_V2),
            uniswap_v3_hops=kinds.count(UNISWAP_V3),
            ticks_crossed=ticks_crossed,
            balancer_hops=kinds.count(BALANCER),
            via_diamond=sum(1 for k in kinds[1:] if k != UNISWAP_V2),
            v3_flash=int(source == "uniswap_v3_flash"),
            v2_flash=int(source == "uniswap_v2_flash"),
            gas_used=gas_used,
        )


# model figure -> the sample count it multiplies (None: the intercept)
_TERMS: tuple[tuple[str, str | None], ...] = (
    ("base", None),
    ("per_v2_hop", "uniswap_v2_hops"),
    ("per_v3_hop", "uniswap_v3_hops"),
    ("per_tick_crossed", "ticks_crossed"),
    ("per_balancer_hop", "balancer_hops"),
    ("via_diamond", "via_diamond"),
    ("v3_flash", "v3_flash"),
    ("v2_flash", "v2_flash"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class GasModel:
    """Gas units of one `executeArb` transaction.

    Defaults fitted (`fit`, least squares) on 64 receipts of the scan's own routes on the
    replica fork (tests/test_scan_gas.py: Uniswap V3 WETH/USDC 0.3% and Balancer WETH/USDC
    shocked; the best route of every hop sequence, ticks crossed and capital source, 2-3 hops,
    V2/V3/Balancer, Vault loans and V3 flash loans): every receipt within 4% of its estimate.
    No receipt there took a V2 flash swap: `v2_flash` is ExecGas's difference between a pair's
    flash swap and the Vault's loan (flasharb.execute.gas).
    """

    base: int = 111_328  # 21k intrinsic + calldata + dispatch + Vault flashLoan + repay + checks
    per_v2_hop: int = 51_032  # one V2 pair swap: getReserves, swap, transfer to the next pair
    per_v3_hop: int = 79_708  # one V3 pool swap with its callback transfer
    per_tick_crossed: int = 41_576  # each initialized tick a V3 swap crosses (cold storage)
    per_balancer_hop: int = 63_195  # one Vault swap on a weighted pool
    via_diamond: int = 6_839  # a V3 or Balancer hop after the first: input through the diamond
    v3_flash: int = 36_868  # a V3 pool's flash instead of the Vault's loan
    v2_flash: int = 16_400  # a V2 pair's flash swap instead of the Vault's loan

    def estimate_counts(
        self,
        v2: int,
        v3: int,
        balancer: int,
        ticks_crossed: int = 0,
        *,
        via_diamond: int = 0,
        source: str = "balancer_v2",
    ) -> int:
        """Gas units for a route with these hop counts, funded by `source`."""
        return (
            self.base
            + self.per_v2_hop * v2
            + self.per_v3_hop * v3
            + self.per_tick_crossed * ticks_crossed
            + self.per_balancer_hop * balancer
            + self.via_diamond * via_diamond
            + (self.v3_flash if source == "uniswap_v3_flash" else 0)
            + (self.v2_flash if source == "uniswap_v2_flash" else 0)
        )

    def estimate(self, cycle: Cycle, ticks_crossed: int = 0, source: str = "balancer_v2") -> int:
        """Gas units for executing `cycle`, crossing `ticks_crossed` initialized V3 ticks,
        funded by `source` (a FlashPlan source; the Vault's loan by default).

        Raises:
            FlasharbValueError: a hop kind without a figure.
        """
        for hop in cycle.hops:
            if hop.kind not in HOP_KINDS:
                raise FlasharbValueError(f"no gas figure for hop kind {hop.kind!r} ({hop.pool})")
        sample = GasSample.of(cycle, 0, ticks_crossed, source)
        return self.estimate_counts(
            sample.uniswap_v2_hops,
            sample.uniswap_v3_hops,
            sample.balancer_hops,
            ticks_crossed,
            via_diamond=sample.via_diamond,
            source=source,
        )

    def floor(self, index: CycleIndex) -> npt.NDArray[np.int64]:
        """Per cycle of `index`, the gas with no V3 tick crossed, through the diamond or flash
        lender: a lower bound while those figures are >= 0."""
        valid = index.edges >= 0
        kinds = np.where(valid, index.graph.edge_kind[np.where(valid, index.edges, 0)], -1)
        per_kind = np.array([self.per_v2_hop, self.per_v3_hop, self.per_balancer_hop])
        gas = np.full(len(index), self.base, dtype=np.int64)
        for code, figure in enumerate(per_kind):
            gas += (kinds == code).sum(axis=1).astype(np.int64) * int(figure)
        later = kinds[:, 1:]
        v2 = HOP_KINDS.index(UNISWAP_V2)
        gas += ((later >= 0) & (later != v2)).sum(axis=1).astype(np.int64) * self.via_diamond
        return gas

    @classmethod
    def fit(cls, samples: Iterable[GasSample], *, prior: GasModel | None = None) -> GasModel:
        """Least-squares figures over receipts, rounded to whole gas units.

        A figure whose count is zero in every sample cannot be fitted and keeps its value
        from `prior` (the defaults if None).

        Raises:
            FlasharbValueError: no samples, or samples that cannot separate the figures (e.g.
                every receipt has the same number of V2 hops: base and per_v2_hop trade off).
        """
        rows = list(samples)
        if not rows:
            raise FlasharbValueError("GasModel.fit needs at least one receipt")
        kept = [
            (name, count)
            for name, count in _TERMS
            if count is None or any(getattr(s, count) for s in rows)
        ]
        x = [[1 if count is None else getattr(s, count) for _, count in kept] for s in rows]
        y = [s.gas_used for s in rows]
        solution = _least_squares(x, y)
        if solution is None:
            names = ", ".join(name for name, _ in kept)
            raise FlasharbValueError(
                f"receipts do not separate the gas figures ({names}): vary the hop counts "
                f"and ticks crossed across {len(rows)} samples"
            )
        figures = {name: _round(value) for (name, _), value in zip(kept, solution, strict=True)}
        return replace(prior or cls(), **figures)

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _round(value: Fraction) -> int:
    return int(value + Fraction(1, 2)) if value >= 0 else -int(-value + Fraction(1, 2))


def _least_squares(x: Sequence[Sequence[int]], y: Sequence[int]) -> list[Fraction] | None:
    """Exact solution of the normal equations X'X b = X'y; None if X'X is singular."""
    k = len(x[0])
    a = [[Fraction(sum(r[i] * r[j] for r in x)) for j in range(k)] for i in range(k)]
    b = [Fraction(sum(r[i] * v for r, v in zip(x, y, strict=True))) for i in range(k)]
    for col in range(k):  # Gauss-Jordan, exact
        pivot = next((r for r in range(col, k) if a[r][col] != 0), None)
        if pivot is None:
            return None
        a[col], a[pivot] = a[pivot], a[col]
        b[col], b[pivot] = b[pivot], b[col]
        for r in range(k):
            if r != col and a[r][col] != 0:
                factor = a[r][col] / a[col][col]
                a[r] = [v - factor * p for v, p in zip(a[r], a[col], strict=True)]
                b[r] -= factor * b[col]
    return [b[i] / a[i][i] for i in range(k)]
