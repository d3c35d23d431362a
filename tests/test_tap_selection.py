# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""tap.run_selection against the emulator: chunks the service refuses or cuts, limits,
TOP, counts, and what the Selection records."""
import types
import warnings
from urllib.parse import urlencode

import pytest
from astropy.table import Table
from astroquery.exceptions import MaxResultsWarning
from logs import debug_records

from astroquery_eso_ancillary import Eso, EsoQueryError, adql, conf, tap
from astroquery_eso_ancillary.emulator import ArchiveEmulator


def file_plan(client, **kwargs):
    schema = client.schema()
    return adql.plan_file_query(schema.product_files, schema.obscore,
                                size_column=schema.size_column, **kwargs)


def posted(query):
    """Bytes of the form body a sync query is sent as."""
    return len(urlencode({"REQUEST": "doQuery", "LANG": "ADQL", "FORMAT": "votable",
                          "QUERY": query, "MAXREC": "16000000"}))


def fake_ids(n):
    """Well-formed product ids the archive does not hold."""
    return [f"ADP.2030-01-01T00:00:{i // 1000:02d}.{i % 1000:03d}" for i in range(n)]


def archive_ids(table):
    return sorted(str(v) for v in table["archive_id"])


@pytest.fixture
def archive(eso_archive_factory):
    return eso_archive_factory(products=40)


def expected(emu, product_ids):
    return sorted(f["archive_id"] for p in product_ids for f in emu.archive.files_of(p))


# -- a service that refuses long queries ----------------------------------------------------

def test_a_refused_long_query_is_asked_again_in_halves(eso_archive_factory):
    probe = eso_archive_factory(products=40)
    real = [p["dp_id"] for p in probe.archive.products][:8]
    # A first chunk of 1,100 ids that the service refuses, then a short one it takes.
    ids = real[:3] + fake_ids(1094) + real[3:6] + real[6:]
    client = tap.TapClient(probe.eso)
    plan = file_plan(client, columns=["archive_id"])
    whole = tap.selection_queries(plan, product_ids=ids[:1100], chunk_size=1100)
    halves = [tap.selection_queries(plan, product_ids=ids[:550], chunk_size=550),
              tap.selection_queries(plan, product_ids=ids[550:1100], chunk_size=550),
              tap.selection_queries(plan, product_ids=ids[1100:], chunk_size=550)]
    limit = (posted(whole) + posted(halves[0])) // 2
    emu = eso_archive_factory(products=40, max_post_bytes=limit)
    client = tap.TapClient(emu.eso)
    with debug_records() as records:
        selection = tap.run_selection(client, file_plan(client, columns=["archive_id"]),
                                      product_ids=ids, chunk_size=1100)
    assert selection.queries == halves
    assert archive_ids(selection.table) == expected(emu, real)
    assert [r.getMessage() for r in records if "splitting" in r.getMessage()] == [
        "A query of 1100 ids failed (EsoQueryError); splitting it in two."]
    # The ids come back grouped in the order asked.
    assert list(dict.fromkeys(str(p) for p in selection.full["product_id"])) == real


def test_chunks_of_500_ids_or_fewer_are_not_split_further(eso_archive_factory):
    probe = eso_archive_factory(products=40)
    client = tap.TapClient(probe.eso)
    plan = file_plan(client, columns=["archive_id"])
    ids = fake_ids(501)
    small = posted(tap.selection_queries(plan, product_ids=ids[:251], chunk_size=251))
    large = posted(tap.selection_queries(plan, product_ids=ids[:500], chunk_size=500))
    emu = eso_archive_factory(products=40, max_post_bytes=(small + large) // 2)
    client = tap.TapClient(emu.eso)
    plan = file_plan(client, columns=["archive_id"])
    # 501 ids are split into 250 and 251, which the service takes ...
    selection = tap.run_selection(client, plan, product_ids=ids, chunk_size=501)
    assert len(selection.queries) == 2 and len(selection.table) == 0
    # ... but a refused chunk of 500 is the service's answer, not a reason to split.
    with pytest.raises(EsoQueryError, match="LANG parameter is required"):
        tap.run_selection(client, plan, product_ids=ids[:500], chunk_size=500)


# -- a service that cuts at its own limit ---------------------------------------------------

def _products_with(emu, counts):
    """Products whose numbers of files are ``counts``, in that order."""
    found, pool = [], [p["dp_id"] for p in emu.archive.products]
    for want in counts:
        pid = next(p for p in pool if len(emu.archive.files_of(p)) == want and p not in found)
        found.append(pid)
    return found


def cutting_at(emu, n):
    """A client whose schema is read, on a service that now cuts every answer at n rows."""
    client = tap.TapClient(emu.eso)
    plan = file_plan(client, columns=["archive_id"])
    emu.hard_maxrec = n
    return client, plan


def test_cut_chunks_of_ids_are_split_until_whole(archive):
    emu = archive
    ids = _products_with(emu, [6, 6, 3, 3])
    client, plan = cutting_at(emu, 6)
    with warnings.catch_warnings():
        warnings.simplefilter("error", MaxResultsWarning)
        selection = tap.run_selection(client, plan, product_ids=ids, chunk_size=4,
                                      split_on_overflow=True)
    assert archive_ids(selection.table) == expected(emu, ids)

    def q(*which):
        return tap.selection_queries(plan, product_ids=list(which), chunk_size=4)

    a, b, c, d = ids
    assert selection.queries == [q(a, b, c, d), q(a, b), q(a), q(b), q(c, d)]


def test_a_cut_pair_of_ids_is_split_too(archive):
    emu = archive
    ids = _products_with(emu, [3, 4])
    client, plan = cutting_at(emu, 4)
    selection = tap.run_selection(client, plan, product_ids=ids, chunk_size=2,
                                  split_on_overflow=True)
    assert archive_ids(selection.table) == expected(emu, ids)
    assert len(selection.queries) == 3


def test_a_single_cut_product_is_reported_not_split(archive):
    (big,) = _products_with(archive, [6])
    client, plan = cutting_at(archive, 4)
    with pytest.warns(MaxResultsWarning, match="The service stopped at 4 rows"):
        selection = tap.run_selection(client, plan, product_ids=[big],
                                      split_on_overflow=True)
    assert len(selection.table) == 4 and len(selection.queries) == 1
    with pytest.warns(MaxResultsWarning, match="The service stopped at 4 rows"):
        unsplit = tap.run_selection(client, plan, product_ids=_products_with(archive, [6, 6]))
    assert len(unsplit.table) == 4 and len(unsplit.queries) == 1


def test_an_open_selection_cut_by_the_service_warns(archive):
    client, plan = cutting_at(archive, 7)
    with pytest.warns(MaxResultsWarning, match=r"stopped at 7 rows \(its own limit\)"):
        selection = tap.run_selection(client, plan, async_job=False)
    assert len(selection.table) == 7


# -- limits, TOP, the async decision ------------------------------------------------------

def test_a_limit_asks_one_row_more_and_warns_when_it_cuts(archive):
    client = tap.TapClient(archive.eso)
    plan = file_plan(client, columns=["archive_id"])
    total = len(archive.archive.files)
    with pytest.warns(MaxResultsWarning, match="Results truncated to 5 rows"):
        selection = tap.run_selection(client, plan, limit=5, async_job=False)
    assert len(selection.table) == 5 and selection.maxrec == 6
    with warnings.catch_warnings():
        warnings.simplefilter("error", MaxResultsWarning)
        exact = tap.run_selection(client, plan, limit=total, async_job=False)
    assert len(exact.table) == total and exact.maxrec == total + 1


def test_top_caps_the_rows_asked(archive):
    client = tap.TapClient(archive.eso)
    plan = file_plan(client, columns=["archive_id"], top=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", MaxResultsWarning)
        selection = tap.run_selection(client, plan, limit=100, async_job=False)
    assert len(selection.table) == 3 and selection.maxrec == 3
    # A limit below TOP wins, asking one row more to know whether it cut.
    with pytest.warns(MaxResultsWarning, match="Results truncated to 1 rows"):
        tighter = tap.run_selection(client, plan, limit=1, async_job=False)
    assert len(tighter.table) == 1 and tighter.maxrec == 2
    alone = tap.run_selection(client, plan, async_job=False)
    assert len(alone.table) == 3 and alone.maxrec == 3


def test_chunks_stop_once_the_limit_is_reached(archive):
    client = tap.TapClient(archive.eso)
    ids = [p["dp_id"] for p in archive.archive.products][:6]
    plan = file_plan(client, columns=["archive_id"])
    first = len(archive.archive.files_of(ids[0])) + len(archive.archive.files_of(ids[1]))
    with pytest.warns(MaxResultsWarning, match=f"Results truncated to {first - 1} rows"):
        selection = tap.run_selection(client, plan, product_ids=ids, chunk_size=2,
                                      limit=first - 1)
    assert len(selection.queries) == 1  # the first chunk already gave more than the limit
    with pytest.warns(MaxResultsWarning, match=f"Results truncated to {first} rows"):
        exact = tap.run_selection(client, plan, product_ids=ids, chunk_size=2, limit=first)
    assert len(exact.queries) == 2  # one row more is needed: the second chunk is asked


@pytest.mark.parametrize("threshold, jobs", [(1, 1), (10**9, 0)])
def test_large_open_selections_run_as_jobs(archive, threshold, jobs):
    client = tap.TapClient(archive.eso)
    plan = file_plan(client, columns=["archive_id"])
    total = len(archive.archive.files)
    with conf.set_temp("async_threshold", threshold):
        before = len([r for r in archive.requests if r.path == "/tap_obs/async"])
        selection = tap.run_selection(client, plan)
    created = [r for r in archive.requests if r.path == "/tap_obs/async"
               and r.method == "POST"]
    assert len(created) - before == jobs and len(selection.table) == total
    with conf.set_temp("async_threshold", total):  # exactly the threshold: sync
        tap.run_selection(client, plan)
    assert len([r for r in archive.requests if r.path == "/tap_obs/async"
                and r.method == "POST"]) == len(created)
    with conf.set_temp("async_threshold", total - 1):  # one above: a job
        tap.run_selection(client, plan)
    assert len([r for r in archive.requests if r.path == "/tap_obs/async"
                and r.method == "POST"]) == len(created) + 1


def test_a_limit_at_or_below_the_threshold_never_counts(archive):
    client = tap.TapClient(archive.eso)
    plan = file_plan(client, columns=["archive_id"])
    with conf.set_temp("async_threshold", 10), pytest.warns(MaxResultsWarning):
        tap.run_selection(client, plan, limit=9)  # asks 10 rows: not above the threshold
    assert not [q for q in archive.queries if q.adql.startswith("SELECT COUNT")]
    with conf.set_temp("async_threshold", 10), pytest.warns(MaxResultsWarning):
        tap.run_selection(client, plan, limit=10)  # asks 11: counted first
    assert [q for q in archive.queries if q.adql.startswith("SELECT COUNT")]


# -- counts ---------------------------------------------------------------------------------

def test_counts_add_up_over_chunks(archive):
    client = tap.TapClient(archive.eso)
    ids = [p["dp_id"] for p in archive.archive.products][:5]
    plan = file_plan(client, columns=["archive_id"])
    selection = tap.run_selection(client, plan, product_ids=ids, chunk_size=2,
                                  count_only=True)
    assert selection.count == len(expected(archive, ids)) and len(selection.queries) == 3
    # A refined count (a literal '_' inside a wildcard) is counted on the client.
    refined = file_plan(client, columns=["archive_id"], original_filename="*_*")
    names = [f["original_filename"] for p in ids for f in archive.archive.files_of(p)]
    counted = tap.run_selection(client, refined, product_ids=ids, chunk_size=2,
                                count_only=True)
    assert counted.count == sum("_" in n for n in names)
    assert len(counted.queries) == 3


def test_a_refined_count_cut_by_the_service_warns(archive):
    client = tap.TapClient(archive.eso)
    refined = file_plan(client, columns=["archive_id"], original_filename="*_*")
    archive.hard_maxrec = 5
    with pytest.warns(MaxResultsWarning, match="stopped at"):
        counted = tap.run_selection(client, refined, count_only=True)
    assert counted.count <= 5


# -- categories -----------------------------------------------------------------------------

def test_categories_sum_sizes_and_record_their_queries(archive):
    client = tap.TapClient(archive.eso)
    schema = client.schema()
    ids = [p["dp_id"] for p in archive.archive.products][:6]
    plan = adql.plan_category_query(schema.product_files, schema.obscore,
                                    size_column=schema.size_column)
    selection = tap.run_categories(client, plan, product_ids=ids, chunk_size=4)
    files = [f for p in ids for f in archive.archive.files_of(p)
             if f["eso_category"].startswith("ANCILLARY.")]
    want = {}
    for f in files:
        n, size = want.get(f["eso_category"], (0, 0))
        want[f["eso_category"]] = (n + 1, size + int(f[schema.size_column]))
    got = {str(r["eso_category"]): (int(r["n_files"]), int(r["access_estsize"]))
           for r in selection.table}
    assert got == want
    assert len(selection.queries) == 2 and selection.table.meta["query"] == selection.queries
    assert selection.table["access_estsize"].description == "Total estimated size of the files"
    assert selection.table["n_files"].dtype.kind == "i"
    assert isinstance(selection.table, Table) and selection.maxrec is not None


# -- refined selections: MAXREC grows until enough exact rows arrive -----------------------

@pytest.fixture(scope="module")
def big_archive(tmp_path_factory):
    with ArchiveEmulator(products=1000) as emu:
        emu.eso = Eso(archive_url=emu.url)
        emu.eso.cache_location = tmp_path_factory.mktemp("eso-cache")
        yield emu


def _exact_in_first(client, plan, n):
    """How many of the first n rows the service sends match the pattern exactly."""
    text = tap.selection_queries(plan)
    rows = client.run(text, maxrec=n, async_job=False).table
    return sum("5_" in str(name) for name in rows["original_filename"])


@pytest.mark.parametrize("limit", [100, 600])
def test_a_refined_selection_asks_more_rows_until_the_limit_is_met(big_archive, limit):
    client = tap.TapClient(big_archive.eso)
    # '_' is any character to LIKE: the service sends a superset, refined here.
    plan = file_plan(client, columns=["archive_id", "original_filename"],
                     original_filename="*5_*")
    assert plan.refinements
    exact = sorted(f["archive_id"] for f in big_archive.archive.files
                   if "5_" in f["original_filename"])
    want = limit + 1
    first = max(4 * want, 1000)
    maxrec = first if _exact_in_first(client, plan, first) >= want else first * 8
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        selection = tap.run_selection(client, plan, limit=limit, async_job=False)
    assert selection.maxrec == maxrec, (first, maxrec)
    if len(exact) > limit:
        assert len(selection.table) == limit
        assert [str(w.message) for w in caught if w.category is MaxResultsWarning] == [
            f"Results truncated to {limit} rows (ROW_LIMIT). Set ROW_LIMIT to None (or -1) "
            "to retrieve them all."]
        assert set(archive_ids(selection.table)) <= set(exact)
    else:
        assert archive_ids(selection.table) == exact
        assert not [w for w in caught if w.category is MaxResultsWarning]


def _category_plan(client):
    schema = client.schema()
    return adql.plan_category_query(schema.product_files, schema.obscore,
                                    size_column=schema.size_column)


def test_categories_of_products_without_files_are_an_empty_integer_table(archive):
    client = tap.TapClient(archive.eso)
    selection = tap.run_categories(client, _category_plan(client), product_ids=fake_ids(3))
    assert len(selection.table) == 0
    assert selection.table["n_files"].dtype.kind == "i"
    assert selection.table["access_estsize"].dtype.kind == "i"
    assert selection.table.meta["url"] == client.url
    assert selection.table.meta["maxrec"] == selection.maxrec


def test_categories_ask_for_every_group_whatever_the_default_maxrec(eso_archive_factory):
    emu = eso_archive_factory(products=40, default_maxrec=2)
    client = tap.TapClient(emu.eso)
    selection = tap.run_categories(client, _category_plan(client))
    wanted = {f["eso_category"] for f in emu.archive.files
              if f["eso_category"].startswith("ANCILLARY.")}
    assert {str(c) for c in selection.table["eso_category"]} == wanted and len(wanted) > 2


def test_categories_cut_by_the_service_warn(archive):
    client = tap.TapClient(archive.eso)
    plan = _category_plan(client)
    archive.hard_maxrec = 3
    with pytest.warns(MaxResultsWarning, match="The service stopped at 3 rows"):
        selection = tap.run_categories(client, plan)
    assert len(selection.table) == 3


# -- the queries sent, and what the Selection keeps -----------------------------------------

def test_the_adql_of_refined_and_counted_selections(archive):
    client = tap.TapClient(archive.eso)
    plain = file_plan(client, columns=["archive_id"], top=3, order_by="archive_id")
    refined = file_plan(client, columns=["archive_id"], top=3, order_by="archive_id",
                        original_filename="*5_*")
    assert tap.selection_queries(plain).startswith("SELECT TOP 3 ")
    # With a client-side refinement, TOP moves to the client; a count fetches only the
    # refined column, without TOP or ORDER BY.
    assert not tap.selection_queries(refined).startswith("SELECT TOP")
    assert tap.selection_queries(refined).endswith("ORDER BY f.archive_id DESC")
    assert tap.selection_queries(refined, count_only=True) == (
        "SELECT f.original_filename FROM phase3v2.product_files AS f "
        "WHERE f.original_filename LIKE '%5_%'")
    assert tap.selection_queries(plain, count_only=True) == (
        "SELECT COUNT(*) FROM phase3v2.product_files AS f")


def test_a_trailing_slash_of_the_tap_url_is_dropped():
    eso = types.SimpleNamespace(tap_url="http://127.0.0.1:1/tap_obs/")
    assert tap.TapClient(eso).url == "http://127.0.0.1:1/tap_obs"


def test_a_counted_selection_can_run_as_jobs(archive):
    client = tap.TapClient(archive.eso)
    plan = file_plan(client, columns=["archive_id"])
    before = len([r for r in archive.requests if r.path == "/tap_obs/async"
                  and r.method == "POST"])
    selection = tap.run_selection(client, plan, count_only=True, async_job=True)
    assert selection.count == len(archive.archive.files)
    assert len([r for r in archive.requests if r.path == "/tap_obs/async"
                and r.method == "POST"]) == before + 1


def test_the_selection_records_maxrec_and_keeps_every_column_without_a_plan(archive):
    client = tap.TapClient(archive.eso)
    with pytest.warns(MaxResultsWarning):
        selection = tap.run_selection(client, file_plan(client, columns=["archive_id"]),
                                      limit=4, async_job=False)
    assert selection.table.meta["maxrec"] == selection.maxrec == 5
    bare = tap.run_selection(client, adql.FileQuery(("f.archive_id", "f.product_id")),
                             async_job=False)
    assert set(bare.table.colnames) == {"product_id", "archive_id"}
    assert len(bare.table) == len(archive.archive.files)
