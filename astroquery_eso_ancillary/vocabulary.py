# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The values the archive really has in the columns users select on, and the
resolution of user values against them.

``collections``, ``instruments``, ``categories`` and ``extensions`` name
values of ``obs_collection``, ``instrument_name``, ``eso_category`` and
``extension``. The archive's values are read with one ``SELECT DISTINCT`` per
column (built by `~astroquery_eso_ancillary.adql`, run by
`~astroquery_eso_ancillary.tap.TapClient` through astroquery's cache) and kept
on the `EsoClass` instance, so a column costs one query per instance, not
one per call; ``cache=False`` reads it again.

`resolve` matches what the user typed to the archive's spelling,
case-insensitively (``'muse'`` -> ``'MUSE'``), expands wildcards that match
only in another case into the exact values, and raises ValueError naming the
closest values when a value matches nothing (a typo is an error, not an empty
result).
"""
import difflib
import re
from dataclasses import dataclass

from . import _compat, adql, tables
from .exceptions import EsoServiceError

__all__ = ["ARGUMENTS", "Vocabulary", "distinct_query", "resolve"]


@dataclass(frozen=True)
class Argument:
    """A selection argument: its table and column, and how adql.py checks its values."""

    name: str
    table: str
    column: str
    options: tuple  # keyword arguments of adql.compile_patterns, as pairs

    @property
    def label(self):
        return {"obs_collection": "collection", "instrument_name": "instrument",
                "eso_category": "category", "extension": "file extension"}[self.column]


#: The arguments resolved against the archive's values.
ARGUMENTS = {
    "collections": Argument("collections", adql.OBSCORE, "obs_collection",
                            (("names", True), ("split_commas", True))),
    "instruments": Argument("instruments", adql.OBSCORE, "instrument_name",
                            (("names", True), ("split_commas", True))),
    "categories": Argument("categories", adql.PRODUCT_FILES, "eso_category",
                           (("category", True),)),
    "extensions": Argument("extensions", adql.PRODUCT_FILES, "extension", ()),
}


def distinct_query(argument):
    """The ADQL listing the values of one argument's column.

    Examples
    --------
    >>> distinct_query("collections")
    'SELECT DISTINCT obs_collection FROM ivoa.ObsCore WHERE obs_collection IS NOT NULL'
    """
    arg = ARGUMENTS[argument]
    return adql.select([arg.column], arg.table, [f"{arg.column} IS NOT NULL"], distinct=True)


def _hint(text, known):
    """" Did you mean X, Y?" for the known values closest to ``text`` ("" if none)."""
    by_lower = {}
    for value in known:
        by_lower.setdefault(value.lower(), value)
    probe = text.lower().replace("*", "").replace("?", "")
    close = difflib.get_close_matches(probe, list(by_lower), n=3, cutoff=0.6)
    if close:
        # Values sharing a long prefix all look close; name only the best few.
        def ratio(value):
            return difflib.SequenceMatcher(None, probe, value).ratio()
        best = ratio(close[0])
        close = [c for c in close if ratio(c) >= best - 0.05]
    if not close and probe:
        # Wildcards and prefixes: values containing what was typed.
        close = [v for v in by_lower if probe in v][:3]
    return (" Did you mean " + ", ".join(by_lower[c] for c in close) + "?") if close else ""


def resolve(value, known, *, argument):
    """Match a user value (str or list) to the archive's values of one argument.

    Parameters
    ----------
    value : str or list of str
        Exact values and shell-style wildcards, as the argument takes them.
    known : iterable of str
        The values the archive has (`Vocabulary.values`).
    argument : str
        ``'collections'``, ``'instruments'``, ``'categories'`` or
        ``'extensions'``.

    Returns
    -------
    list of str
        The archive's spellings; a wildcard matching in the user's case stays
        a wildcard (sent as ``LIKE``), one matching only in another case is
        replaced by the values it matches.

    Raises
    ------
    ValueError
        A value or wildcard matches no value of the archive; the message names
        the closest ones.

    Examples
    --------
    >>> resolve("muse, vvv*", ["MUSE", "VVV", "VVVX", "HARPS"], argument="collections")
    ['MUSE', 'VVV', 'VVVX']
    >>> resolve("ANCILLARY.PREVEIW", ["ANCILLARY.PREVIEW"],
    ...         argument="categories")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: categories: 'ANCILLARY.PREVEIW' is no category ... mean ANCILLARY.PREVIEW?
    """
    arg = ARGUMENTS[argument]
    if arg.column == "extension":
        value = value.upper() if isinstance(value, str) else value
    patterns = adql.compile_patterns(value, what=argument, **dict(arg.options))
    known = [k for k in dict.fromkeys(known) if k]
    by_lower = {}
    for k in known:
        by_lower.setdefault(k.lower(), []).append(k)
    out = []
    for pattern in patterns.patterns:
        text = pattern.text
        if pattern.matches_everything:
            out.append(text)
        elif not pattern.is_wildcard:
            if text in known:
                out.append(text)
            elif text.lower() in by_lower:
                out.extend(by_lower[text.lower()])
            else:
                raise ValueError(f"{argument}: {text!r} is no {arg.label} of the archive."
                                 f"{_hint(text, known)}")
        else:
            loose = re.compile(pattern.regex.pattern, re.IGNORECASE | re.DOTALL)
            matched = [k for k in known if loose.match(k)]
            if not matched:
                raise ValueError(f"{argument}: {text!r} matches no {arg.label} of the "
                                 f"archive.{_hint(text, known)}")
            if all(pattern.regex.match(k) for k in matched):
                out.append(text)  # the user's case is the archive's: keep the LIKE
            else:
                out.extend(matched)
    return list(dict.fromkeys(out))


class Vocabulary:
    """The archive's values of the selection columns, read once per `EsoClass` instance.

    Parameters
    ----------
    client : `~astroquery_eso_ancillary.tap.TapClient`
        Runs the ``SELECT DISTINCT`` queries (anonymously: the values are
        public metadata).
    store : dict
        Where the values are kept between calls (``EsoClass.vocabulary_cache``).
    refresh : bool
        Read the values again (``cache=False``), replacing the stored ones.

    Examples
    --------
    >>> from astroquery_eso_ancillary import Eso, tap
    >>> vocabulary = Vocabulary(tap.TapClient(Eso), {})
    >>> vocabulary.resolve("instruments", "espresso")  # doctest: +SKIP
    ['ESPRESSO']
    """

    def __init__(self, client, store, *, refresh=False):
        self.client = client
        self.store = store
        self.refresh = refresh
        self._read = set()

    def values(self, argument):
        """The archive's values of ``argument``'s column (a tuple of str)."""
        key = (self.client.url, argument)
        if key not in self.store or (self.refresh and key not in self._read):
            result = self.client.run(distinct_query(argument),
                                     maxrec=_compat.max_row_limit())
            if result.overflow:
                raise EsoServiceError(f"{self.client.url} cut the list of "
                                      f"{ARGUMENTS[argument].column} values at "
                                      f"{len(result.table)} rows.")
            column = ARGUMENTS[argument].column
            self.store[key] = tuple(sorted(v for v in tables.texts(result.table, column) if v))
            self._read.add(key)
        return self.store[key]

    def resolve(self, argument, value):
        """`resolve` ``value`` against the archive's values (None stays None)."""
        if value is None:
            return None
        # A malformed value fails before any query is sent; '*' needs no look-up.
        patterns = adql.compile_patterns(value, what=argument,
                                         **dict(ARGUMENTS[argument].options))
        if patterns.matches_everything:
            return value
        return resolve(value, self.values(argument), argument=argument)
