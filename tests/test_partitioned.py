"""Province-partitioned datasets (evalkit.data.partition, docs/scale.md).

The committed sample (flat CSV) is the reference: the generator writes the same tables as a
Hive-partitioned Parquet folder, and ``load_dataset(folder, provinces=[...])`` must read only
the requested partitions and give exactly the frames of the flat load cut to those provinces.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import evalkit
from evalkit.data import partition
from evalkit.errors import DataError
from evalkit.synth import generate

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
AS_OF = "2026-09-01"


@pytest.fixture(scope="module")
def flat() -> evalkit.Dataset:
    return evalkit.load_dataset(SAMPLE, as_of=AS_OF)


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return generate.generate_tables("sample")


@pytest.fixture(scope="module")
def parted(tmp_path_factory: pytest.TempPathFactory, tables: dict[str, pd.DataFrame]) -> Path:
    folder = tmp_path_factory.mktemp("parted")
    generate.write_tables(tables, folder, fmt="parquet", partitioned=True)
    return folder


def assert_same(a: evalkit.Dataset, b: evalkit.Dataset) -> None:
    assert list(a.tables) == list(b.tables)
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name], obj=name)


def test_layout_is_hive_partitioned_by_province(parted: Path) -> None:
    for name in evalkit.data.schema.TABLE_NAMES:
        assert not (parted / f"{name}.parquet").exists()
        parts = sorted(p.name for p in (parted / name).iterdir())
        assert parts and all(p.startswith("province=") for p in parts), name
    import pyarrow.parquet as pq

    apps44 = pq.read_table(parted / "apps" / "province=44" / "part-0.parquet")
    assert partition.ROW_COLUMN in apps44.column_names
    assert "province" not in apps44.column_names  # the key lives in the folder name only
    subs = pq.read_table(parted / "submissions" / "province=44" / "part-0.parquet").to_pandas()
    assert set(subs["province_code"]) == {"44"}


def test_whole_partitioned_read_equals_the_flat_sample(flat: evalkit.Dataset, parted: Path) -> None:
    assert_same(flat, evalkit.load_dataset(parted, as_of=AS_OF))


@pytest.mark.parametrize("codes", [["44"], ["11", "66"], ["63", "64", "65"]])
def test_partition_read_equals_flat_load_cut_to_the_provinces(parted: Path, codes: list[str]) -> None:
    want = evalkit.load_dataset(SAMPLE, as_of=AS_OF, provinces=codes)
    got = evalkit.load_dataset(parted, as_of=AS_OF, provinces=codes)
    assert_same(want, got)
    assert set(got.submissions["province_code"]) == set(codes)


def test_only_requested_partitions_are_read(tmp_path: Path, tables: dict[str, pd.DataFrame]) -> None:
    generate.write_tables(tables, tmp_path, fmt="parquet", partitioned=True)
    want = evalkit.load_dataset(tmp_path, as_of=AS_OF, provinces=["44"])
    spoiled = 0
    for path in tmp_path.glob("*/province=*/*.parquet"):
        if path.parent.name != "province=44":
            path.write_bytes(b"not parquet at all")  # reading it would fail
            spoiled += 1
    assert spoiled > 200  # every table but ahp_judgments (Beijing's experts only) has rows in most provinces
    assert_same(want, evalkit.load_dataset(tmp_path, as_of=AS_OF, provinces=["44"]))
    with pytest.raises(DataError) as err:
        evalkit.load_dataset(tmp_path, as_of=AS_OF)
    assert any(p.code == "not_parquet" for p in err.value.problems)


def test_slice_holds_what_the_province_evaluation_needs(flat: evalkit.Dataset) -> None:
    code = "44"
    got = evalkit.load_dataset(SAMPLE, as_of=AS_OF, provinces=[code])
    subs = flat.submissions.loc[flat.submissions["province_code"].eq(code)].reset_index(drop=True)
    pd.testing.assert_frame_equal(got.submissions, subs)
    panel = flat.panel_scores.loc[flat.panel_scores["province_code"].eq(code)].reset_index(drop=True)
    pd.testing.assert_frame_equal(got.panel_scores, panel)
    # every candidate, every provider domiciled here, with a candidate here or an app a school
    # here selects (issue 18), all their apps
    schools = flat.schools.loc[flat.schools["province_code"].eq(code), "school_id"]
    selected = flat.selections.loc[flat.selections["school_id"].isin(schools), "app_id"]
    owners = set(flat.apps.loc[flat.apps["app_id"].isin(subs["app_id"]) | flat.apps["app_id"].isin(selected),
                               "provider_id"])
    owners |= set(flat.providers.loc[flat.providers["province_code"].eq(code), "provider_id"])
    assert set(got.providers["provider_id"]) == owners
    assert set(got.apps["app_id"]) == set(flat.apps.loc[flat.apps["provider_id"].isin(owners), "app_id"])
    assert set(subs["app_id"]) <= set(got.apps["app_id"])
    assert set(got.schools["school_id"]) == set(schools) and set(got.selections["school_id"]) <= set(schools)
    assert set(got.complaints["app_id"]) <= set(got.apps["app_id"])
    n_complaints = flat.complaints["app_id"].isin(got.apps["app_id"]).sum()
    assert len(got.complaints) == n_complaints
    # the AHP judgments counting for the province (its own experts' in the sample: Beijing's
    # only), and their experts
    experts = flat.experts.set_index("expert_id")["province_code"]
    mine = flat.ahp_judgments["expert_id"].map(experts).eq(code)
    assert len(got.ahp_judgments) == mine.sum() == 0
    beijing = evalkit.load_dataset(SAMPLE, as_of=AS_OF, provinces=["11"])
    assert len(beijing.ahp_judgments) == len(flat.ahp_judgments) > 0
    assert set(beijing.ahp_judgments["expert_id"]) <= set(beijing.experts["expert_id"])
    # a province's slice is a small part of the country
    assert len(got.apps) < len(flat.apps) / 5


def test_memberships_are_vectorised_long_frames(flat: evalkit.Dataset) -> None:
    m = partition.memberships(flat.tables)
    assert set(m) == set(flat.tables)
    subs = m["submissions"]
    # one partition per submission, its own province
    assert len(subs) == len(flat.submissions)
    assert np.array_equal(flat.submissions["province_code"].to_numpy()[subs["row"]],
                          subs["province"].to_numpy())
    # cross-submitted apps are stored once per province that needs them
    apps = m["apps"]
    assert apps["row"].nunique() == len(flat.apps)
    assert len(apps) > len(flat.apps)


def test_provinces_parameter_is_checked(parted: Path) -> None:
    with pytest.raises(ValueError, match="'provinces' parameter of load_dataset"):
        evalkit.load_dataset(parted, provinces=["99"])
    with pytest.raises(TypeError, match="'provinces' parameter of load_dataset"):
        evalkit.load_dataset(parted, provinces="44")
    with pytest.raises(ValueError, match="'provinces' parameter of load_dataset"):
        evalkit.load_dataset(parted, provinces=[])


def test_partitioned_needs_parquet(tmp_path: Path, tables: dict[str, pd.DataFrame]) -> None:
    with pytest.raises(ValueError, match="'partitioned' parameter of write_tables"):
        generate.write_tables(tables, tmp_path, fmt="csv", partitioned=True)


def test_flat_and_partitioned_table_together_is_an_error(tmp_path: Path,
                                                         tables: dict[str, pd.DataFrame]) -> None:
    generate.write_tables(tables, tmp_path, fmt="parquet", partitioned=True)
    generate.write_tables({"waivers": tables["waivers"]}, tmp_path / "flat", fmt="csv")
    (tmp_path / "flat" / "waivers.csv").rename(tmp_path / "waivers.csv")
    with pytest.raises(DataError) as err:
        evalkit.load_dataset(tmp_path)
    assert any(p.code == "both_formats" for p in err.value.problems)


def test_n_apps_scales_the_national_mix() -> None:
    small = generate.generate_tables("national", n_apps=1000)
    assert len(small["apps"]) == 1000
    assert len(small["providers"]) == 200
    per_app = len(small["panel_scores"]) / 1000
    assert 70 < per_app < 95  # 7 experts × 12 criteria (C05 only for minors' apps)
    per_province = small["schools"]["province_code"].value_counts()  # 6,250 × 1/50, and the planted
    assert len(per_province) == 32 and per_province.between(125, 125 + 20).all()
    with pytest.raises(ValueError, match="'n_apps' parameter of generate_tables"):
        generate.generate_tables("sample", n_apps=1000)
    with pytest.raises(ValueError, match="'n_apps' parameter of generate_tables"):
        generate.generate_tables("national", n_apps=10)


def test_province_credit_equals_the_national_credit_cut_to_it(flat: evalkit.Dataset) -> None:
    """credit.evaluate(province=...) reads only the province's providers (a partition's worth
    of rows): every component is per provider, so the result must equal the computation over
    all providers, filtered to the province."""
    from evalkit.evaluate import credit

    for code in ("44", "11", "65"):
        sub_apps = flat.submissions.loc[flat.submissions["province_code"].eq(code), "app_id"]
        got = credit.evaluate(flat, None, AS_OF, province=code)
        whole = credit.evaluate(flat, None, AS_OF, listed_apps=sub_apps.unique())
        # no list published (a first cycle): the same trigger, named for the submitted apps
        swap = ("substantiated_complaint_listed_app", "substantiated_complaint_submitted_app")
        whole = replace(whole, providers=whole.providers.assign(reasons=whole.providers["reasons"].str.replace(*swap)),
                        history=whole.history.assign(reason=whole.history["reason"].str.replace(*swap)))
        owners = set(flat.apps.loc[flat.apps["app_id"].isin(sub_apps), "provider_id"])
        p = whole.providers
        want = p.loc[p["province_code"].eq(code) | p["provider_id"].isin(owners)].reset_index(drop=True)
        assert len(want) > 3
        pd.testing.assert_frame_equal(got.providers, want)
        stats = whole.complaints
        pd.testing.assert_frame_equal(
            got.complaints, stats.loc[stats["province_code"].eq(code)].reset_index(drop=True))
        hist = whole.history
        pd.testing.assert_frame_equal(
            got.history, hist.loc[hist["provider_id"].isin(want["provider_id"])].reset_index(drop=True))
        # and the same from the province's slice of the dataset alone
        part = evalkit.load_dataset(SAMPLE, as_of=AS_OF, provinces=[code])
        pd.testing.assert_frame_equal(credit.evaluate(part, None, AS_OF, province=code).providers, want)


@pytest.mark.slow
def test_publish_on_a_dask_cluster_is_byte_identical_to_local_workers(tmp_path: Path) -> None:
    """The real pipeline and the real report notebooks, on the committed sample: a publish whose
    province reports run on a Dask cluster writes the same bytes as one on local workers."""
    distributed = pytest.importorskip("distributed")
    from evalkit import publish as pub

    local = pub.publish(SAMPLE, AS_OF, provinces="11,44", workers=1, out_dir=tmp_path / "local",
                        progress=False)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        dask = pub.publish(SAMPLE, AS_OF, provinces="11,44", scheduler=cluster.scheduler_address,
                           out_dir=tmp_path / "dask", progress=False)
    assert local.failed == [] and dask.failed == []

    def snapshot(folder: Path) -> dict[str, bytes]:
        return {str(p.relative_to(folder)): p.read_bytes() for p in pub.iter_published(folder)}

    a, b = snapshot(tmp_path / "local" / AS_OF), snapshot(tmp_path / "dask" / AS_OF)
    assert {"11/decisions.csv", "44/credit.csv", "44/recommended_list.xlsx"} <= set(a)
    assert sorted(a) == sorted(b)
    assert [name for name in a if a[name] != b[name]] == []


# ------------------------------------------------------------------------------------------
# the pipeline, `evalkit run` and `evalkit publish` on a partitioned dataset


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _same_but_provenance(a: dict[str, bytes], b: dict[str, bytes]) -> None:
    """Every export byte for byte; provenance.json equal but for the input file names (and so
    the hash of the register cycle recorded, which covers them)."""
    import json

    assert sorted(a) == sorted(b)
    assert {"decisions.csv", "credit.csv", "recommended_list.xlsx"} <= {k.split("/")[-1] for k in a}
    differ = [name for name in a if a[name] != b[name] and not name.endswith("provenance.json")]
    assert differ == []
    for name in (n for n in a if n.endswith("provenance.json")):
        pa_, pb = json.loads(a[name]), json.loads(b[name])
        assert pa_.pop("inputs") != pb.pop("inputs")
        ca, cb = pa_.pop("register_cycle", {}), pb.pop("register_cycle", {})
        assert ca.pop("hash", None) != cb.pop("hash", None) or not ca
        assert ca == cb  # the same cycle id and chain position
        assert pa_ == pb


def test_provenance_hashes_every_part_file_read(parted: Path) -> None:
    import hashlib
    import json

    from evalkit.evaluate import pipeline

    whole = evalkit.load_dataset(parted, as_of=AS_OF)
    inputs = pipeline.evaluate(whole, AS_OF, provinces=["44"]).province("44").provenance["inputs"]
    parts = sorted(p.relative_to(parted).as_posix() for p in parted.glob("*/province=*/*.parquet"))
    assert list(inputs) == parts  # every part file, sorted relative paths
    assert len(parts) > 250
    for name, digest in inputs.items():
        assert digest == hashlib.sha256((parted / name).read_bytes()).hexdigest(), name
    # a province's load lists exactly the files it read: that province's partitions
    own = evalkit.load_dataset(parted, as_of=AS_OF, provinces=["44"])
    assert own.provinces == ("44",)
    got = pipeline.evaluate(own, AS_OF, provinces=["44"]).province("44").provenance
    assert list(got["inputs"]) == [p for p in parts if "/province=44/" in p]
    tables = {name.split("/")[0] for name in got["inputs"]}
    # no violation in Guangdong's sample; AHP judgments from Beijing's experts only; the sample's
    # objections are Anhui's (34), and it holds no statement or repair
    assert tables == set(evalkit.data.schema.TABLE_NAMES) - {"ahp_judgments", "violations", "objections", "rechecks",
                                                             "sanction_statements", "credit_repairs"}
    assert partition.part_files(parted / "apps", ["44"]) == [parted / "apps/province=44/part-0.parquet"]
    # the same input gives the same bytes
    again = pipeline.evaluate(evalkit.load_dataset(parted, as_of=AS_OF, provinces=["44"]), AS_OF,
                              provinces=["44"]).province("44").provenance
    assert json.dumps(again, sort_keys=True) == json.dumps(got, sort_keys=True)


@pytest.fixture()
def spoiled(tmp_path: Path, tables: dict[str, pd.DataFrame]) -> Path:
    """A partitioned sample whose partitions other than 44 cannot be read."""
    folder = tmp_path / "spoiled"
    generate.write_tables(tables, folder, fmt="parquet", partitioned=True)
    for path in folder.glob("*/province=*/*.parquet"):
        if path.parent.name != "province=44":
            path.write_bytes(b"not parquet at all")
    return folder


def test_province_result_reads_only_its_partitions_and_equals_the_flat_run(
        spoiled: Path, tmp_path: Path) -> None:
    from evalkit.evaluate import pipeline

    got = pipeline.province_result(spoiled, "44", AS_OF)  # other partitions would not load
    flat_run = pipeline.province_result(SAMPLE, "44", AS_OF)
    national = pipeline.evaluate(evalkit.load_dataset(SAMPLE, as_of=AS_OF), AS_OF).province("44")
    for name, res in (("parted", got), ("flat", flat_run), ("national", national)):
        res.write_exports(tmp_path / name)
    _same_but_provenance(_files(tmp_path / "flat"), _files(tmp_path / "parted"))
    # the national evaluation's exports (model trained on every provider) are the same too
    assert _files(tmp_path / "flat") == _files(tmp_path / "national")
    assert len(got.decisions) == len(national.decisions) > 10
    # the early-warning model of a single-province run saw the province's providers only
    assert got.risk_quality["scope"] == flat_run.risk_quality["scope"] == "province"
    assert national.risk_quality["scope"] == "national"
    assert set(got.risk["provider_id"]) == set(got.credit["provider_id"])
    pd.testing.assert_frame_equal(got.risk, flat_run.risk)


def test_province_cache_key_covers_only_its_partitions(tmp_path: Path,
                                                       tables: dict[str, pd.DataFrame]) -> None:
    import pyarrow.parquet as pq

    from evalkit.evaluate import pipeline

    data, cache = tmp_path / "data", tmp_path / "cache"
    generate.write_tables(tables, data, fmt="parquet", partitioned=True)
    key_file = cache / AS_OF / "44" / "cache_key.txt"
    pipeline.province_result(data, "44", AS_OF, cache_dir=cache)
    key = key_file.read_text()

    def rewrite(path: Path) -> None:  # same rows, other bytes
        pq.write_table(pq.read_table(path), path, compression="snappy")

    rewrite(data / "apps" / "province=11" / "part-0.parquet")
    pipeline.province_result(data, "44", AS_OF, cache_dir=cache)
    assert key_file.read_text() == key  # another province's data: still valid
    rewrite(data / "apps" / "province=44" / "part-0.parquet")
    res = pipeline.province_result(data, "44", AS_OF, cache_dir=cache)
    assert key_file.read_text() != key  # its own data: recomputed
    assert res.provenance["inputs"]["apps/province=44/part-0.parquet"] == evalkit.data.exports.file_sha256(
        data / "apps" / "province=44" / "part-0.parquet")


def test_cli_run_on_a_partitioned_dataset_equals_the_flat_run(spoiled: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from evalkit.cli import app

    for name, data in (("flat", SAMPLE), ("parted", spoiled)):
        r = CliRunner().invoke(app, ["run", "--province", "44", "--as-of", AS_OF, "--data", str(data),
                                     "--out", str(tmp_path / name), "--lang", "en"])
        assert r.exit_code == 0, r.output
    _same_but_provenance(_files(tmp_path / "flat" / AS_OF / "44"), _files(tmp_path / "parted" / AS_OF / "44"))


@pytest.mark.slow
def test_publish_of_a_partitioned_dataset_on_dask_equals_the_flat_publish(
        tmp_path: Path, parted: Path) -> None:
    """`evalkit publish --data <partitioned> --scheduler ...`: the national pass reads every
    partition once, the workers render from the province results it cached; every export
    equals the flat publish's but for the input names in provenance.json."""
    import json

    distributed = pytest.importorskip("distributed")
    from evalkit import publish as pub

    flat = pub.publish(SAMPLE, AS_OF, provinces="11,44", workers=1, out_dir=tmp_path / "flat",
                       progress=False)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        dask = pub.publish(parted, AS_OF, provinces="11,44", scheduler=cluster.scheduler_address,
                           out_dir=tmp_path / "parted", progress=False)
    assert flat.failed == [] and dask.failed == []
    exported = (".csv", ".json", ".xlsx")

    def snapshot(folder: Path) -> dict[str, bytes]:
        return {str(p.relative_to(folder)): p.read_bytes() for p in pub.iter_published(folder)
                if p.suffix in exported and p.parent != folder}

    a, b = snapshot(tmp_path / "flat" / AS_OF), snapshot(tmp_path / "parted" / AS_OF)
    assert {"11/decisions.csv", "44/credit.csv", "44/recommended_list.xlsx"} <= set(a)
    _same_but_provenance(a, b)
    inputs = json.loads(b["44/provenance.json"])["inputs"]
    assert all("/province=" in name for name in inputs) and len(inputs) > 250
