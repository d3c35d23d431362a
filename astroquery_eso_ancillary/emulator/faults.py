# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Fault injection for the emulator: latency, bandwidth caps, dropped
connections, error statuses and slow answers.

Decisions come from a `random.Random` seeded with ``Faults.seed`` and drawn in
a fixed pattern (four numbers per affected request, whatever knobs are set),
so the same seed and the same request sequence give the same faults.
"""
import dataclasses
import random
import threading

__all__ = ["Decision", "FaultInjector", "Faults"]

#: Statuses ``error_status`` may take.
ERROR_STATUSES = (429, 500, 502, 503, 504)


@dataclasses.dataclass
class Faults:
    """What goes wrong, and how often, on an emulator.

    Parameters
    ----------
    latency : float
        Seconds added before every affected request is handled.
    bandwidth : float or None
        Cap in bytes per second on each response body (sleeps between chunks).
    drop_after : int or None
        Close the connection after this many body bytes of every affected response.
    drop_fraction : float
        Fraction of file downloads (``/dataPortal/file/``) cut at a random byte.
    error_fraction : float
        Fraction of affected requests answered with ``error_status`` instead.
    error_status : int
        429, 500, 502, 503 or 504.
    retry_after : float or None
        Value of the ``Retry-After`` header sent with those errors.
    slow_fraction : float
        Fraction of affected requests answered only after ``slow_seconds``.
    slow_seconds : float
        The delay of a slow answer (make it exceed the client's timeout).
    paths : tuple of str
        Path prefixes the faults apply to (e.g. ``("/dataPortal",)``); empty: all.
    seed : int
        Seed of the decisions.

    Examples
    --------
    >>> from astroquery_eso_ancillary.emulator import Faults
    >>> Faults(error_fraction=0.5, error_status=503, retry_after=1, paths=("/tap_obs",))
    ... # doctest: +ELLIPSIS
    Faults(latency=0.0, ..., error_fraction=0.5, error_status=503, retry_after=1, ...)
    """

    latency: float = 0.0
    bandwidth: float | None = None
    drop_after: int | None = None
    drop_fraction: float = 0.0
    error_fraction: float = 0.0
    error_status: int = 503
    retry_after: float | None = None
    slow_fraction: float = 0.0
    slow_seconds: float = 0.0
    paths: tuple = ()
    seed: int = 0

    def __post_init__(self):
        for name in ("drop_fraction", "error_fraction", "slow_fraction"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ValueError(f"Faults.{name} must be between 0 and 1, got {value!r}")
        for name in ("latency", "slow_seconds"):
            if getattr(self, name) < 0:
                raise ValueError(f"Faults.{name} must be >= 0, got {getattr(self, name)!r}")
        if self.bandwidth is not None and self.bandwidth <= 0:
            raise ValueError(f"Faults.bandwidth must be > 0 or None, got {self.bandwidth!r}")
        if self.drop_after is not None and self.drop_after < 0:
            raise ValueError(f"Faults.drop_after must be >= 0 or None, got {self.drop_after!r}")
        if self.error_status not in ERROR_STATUSES:
            raise ValueError(f"Faults.error_status must be one of {ERROR_STATUSES}, "
                             f"got {self.error_status!r}")
        if isinstance(self.paths, str):
            self.paths = (self.paths,)
        self.paths = tuple(self.paths)

    def applies_to(self, path):
        """True when requests to ``path`` are subject to these faults.

        Examples
        --------
        >>> Faults(paths=("/dataPortal",)).applies_to("/tap_obs/sync")
        False
        """
        return not self.paths or any(path.startswith(prefix) for prefix in self.paths)


@dataclasses.dataclass(frozen=True)
class Decision:
    """The faults decided for one request."""

    latency: float = 0.0
    error: bool = False
    slow: bool = False
    #: Close the connection after this many body bytes (None: send it all).
    drop_at: int | None = None
    #: Fraction of the body after which a random drop happens (None: no random drop).
    drop_point: float | None = None
    bandwidth: float | None = None

    def drop_position(self, body_size):
        """Where to cut a body of ``body_size`` bytes, or None."""
        cuts = []
        if self.drop_at is not None:
            cuts.append(self.drop_at)
        if self.drop_point is not None and body_size > 0:
            cuts.append(int(self.drop_point * body_size))
        cut = min(cuts) if cuts else None
        return cut if cut is not None and cut < body_size else None


NO_FAULT = Decision()


class FaultInjector:
    """Draws reproducible `Decision` objects for a `Faults` configuration.

    Examples
    --------
    >>> from astroquery_eso_ancillary.emulator.faults import FaultInjector
    >>> a = FaultInjector(Faults(error_fraction=0.5, seed=3))
    >>> b = FaultInjector(Faults(error_fraction=0.5, seed=3))
    >>> [a.decide("/x").error for _ in range(8)] == [b.decide("/x").error for _ in range(8)]
    True
    """

    def __init__(self, faults):
        self.faults = faults if faults is not None else Faults()
        self._rng = random.Random(self.faults.seed)
        self._lock = threading.Lock()

    def decide(self, path, *, is_file=False):
        """Return the `Decision` for the next request to ``path``."""
        f = self.faults
        if not f.applies_to(path):
            return NO_FAULT
        with self._lock:
            u_error, u_slow, u_drop, u_where = (self._rng.random() for _ in range(4))
        random_drop = is_file and u_drop < f.drop_fraction
        return Decision(
            latency=f.latency,
            error=u_error < f.error_fraction,
            slow=u_slow < f.slow_fraction,
            drop_at=f.drop_after,
            drop_point=u_where if random_drop else None,
            bandwidth=f.bandwidth,
        )
