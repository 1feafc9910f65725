"""The DuckDB engine against an independent pandas computation, on data generated
by focus-data-toolkit for AWS, Azure and GCP in FOCUS 1.2 and 1.3, with tags
blanked on a known share of spend. No database."""

import gzip
from decimal import Decimal

import pandas as pd
import pytest

from evidence import engine, files
from evidence.measures import MEASURES
from evidence.tests import focusdata

TEAM_PAYMENTS, TEAM_DATA, TEAM_SANDBOX, UNIT = 11, 12, 13, 1
TREE = [(11, 11), (11, 1), (12, 12), (12, 1), (13, 13), (1, 1)]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    base = tmp_path_factory.mktemp("focus")
    return {
        (p, v): focusdata.generate(base, provider=p, version=v)
        for p in focusdata.PROVIDERS
        for v in focusdata.VERSIONS
    }


def rules_for(frame):
    accounts = frame["SubAccountId"].dropna().unique().tolist()
    owner = focusdata.tag_keys(frame)[1]
    return [
        {
            "position": 1,
            "team_id": TEAM_PAYMENTS,
            "kind": "tag",
            "key": owner,
            "value": "team-payments",
        },
        {
            "position": 2,
            "team_id": TEAM_DATA,
            "kind": "tag",
            "key": owner,
            "value": "team-data",
        },
        {
            "position": 3,
            "team_id": TEAM_SANDBOX,
            "kind": "sub_account",
            "key": "",
            "value": accounts[0],
        },
    ]


def portal_measures(tmp_path, frame, *, rules, invoice_totals=None, fmt="csv"):
    required = list(focusdata.tag_keys(frame))
    path = tmp_path / "focus.bin"
    if fmt == "parquet":
        con = engine.connect()
        csv_path = focusdata.write(frame, tmp_path / "focus.csv")
        con.execute(
            f"COPY (SELECT * REPLACE (TRY_CAST(EffectiveCost AS DOUBLE) AS EffectiveCost, "
            f"TRY_CAST(BilledCost AS DOUBLE) AS BilledCost) FROM read_csv('{csv_path}', all_varchar=true)) "
            f"TO '{path}' (FORMAT parquet)"
        )
        con.close()
    else:
        focusdata.write(frame, path)
    con = engine.connect(temp_dir=str(tmp_path / "tmp"))
    infos = files.inspect_files(con, [files.SourceFile(str(path), "focus.csv")])
    cube = engine.build_cube(con, infos)
    paths = engine.write_period_cubes(con, str(tmp_path / "cubes"), cube.custom)
    result = engine.compute_measures(
        con,
        engine.cube_relation(list(paths.values())),
        rules=rules,
        tree=TREE,
        required_keys=required,
        invoice_totals=invoice_totals,
        missing=cube.missing,
    )
    con.close()
    return result, cube


@pytest.mark.parametrize("provider", focusdata.PROVIDERS)
@pytest.mark.parametrize("version", focusdata.VERSIONS)
def test_every_measure_equals_pandas_to_the_cent(
    tmp_path, generated, provider, version
):
    frame = focusdata.with_gaps(
        focusdata.read(generated[(provider, version)]),
        eligibility=provider == "azure",
        team_column=provider == "gcp",
    )
    rules = rules_for(frame)
    if provider == "gcp":
        rules.append(
            {
                "position": 4,
                "team_id": TEAM_SANDBOX,
                "kind": "column",
                "key": "x_Team",
                "value": "analytics",
            }
        )
    invoices = (
        frame.dropna(subset=["InvoiceId"])
        .groupby("InvoiceId")["BilledCost"]
        .apply(lambda s: sum((Decimal(v) for v in s), Decimal(0)))
    )
    totals = {k: v for i, (k, v) in enumerate(invoices.items()) if i % 2 == 0}
    result, _cube = portal_measures(tmp_path, frame, rules=rules, invoice_totals=totals)
    wanted = focusdata.expected(
        frame,
        rules=rules,
        tree=TREE,
        required_keys=list(focusdata.tag_keys(frame)),
        invoice_totals=totals,
    )
    compared = focusdata.assert_matches(result, wanted)
    assert compared >= 25


def test_tag_coverage_reflects_the_blanked_share(tmp_path, generated):
    frame = focusdata.with_gaps(
        focusdata.read(generated[("aws", "1.3")]), blank_share=0.3, partial_share=0.0
    )
    result, _cube = portal_measures(tmp_path, frame, rules=[])
    org = result[(result["measure"] == "tag_coverage") & result["node_id"].isna()]
    # Blanking stops at the row that crosses 30 %, so coverage is just under 70 %.
    assert 60 < org["value"].iloc[0] <= 70


def test_parquet_gives_the_same_figures_as_csv(tmp_path, generated):
    frame = focusdata.with_gaps(focusdata.read(generated[("azure", "1.2")]))
    rules = rules_for(frame)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    from_csv, _ = portal_measures(tmp_path / "a", frame, rules=rules)
    from_parquet, _ = portal_measures(tmp_path / "b", frame, rules=rules, fmt="parquet")
    pd.testing.assert_series_equal(from_csv["value"], from_parquet["value"], rtol=1e-9)


def test_the_same_sql_over_raw_rows_equals_the_summary(tmp_path, generated):
    """The measures read ``focus`` rows; over raw FOCUS rows (a warehouse table)
    and over the portal's summary they give the same figures."""
    frame = focusdata.with_gaps(focusdata.read(generated[("gcp", "1.3")]))
    rules = rules_for(frame)
    from_cube, cube = portal_measures(tmp_path, frame, rules=rules)
    path = focusdata.write(frame, tmp_path / "raw.csv")
    con = engine.connect()
    flags = ", ".join(f"{sql} AS {name}" for name, sql in engine.ROW_FLAGS.items())
    con.execute(
        f"""CREATE TABLE warehouse AS SELECT *,
        TRY_CAST(BillingPeriodStart AS TIMESTAMPTZ)::DATE AS x_PeriodStart,
        coalesce(ServiceProviderName, ProviderName) AS ProviderName2
        FROM read_csv('{path}', all_varchar = true)"""
    )
    con.execute(
        f"""CREATE VIEW raw_focus AS SELECT * EXCLUDE (EffectiveCost, BilledCost, ProviderName, ProviderName2),
        ProviderName2 AS ProviderName,
        CAST(EffectiveCost AS DECIMAL(38, 10)) AS EffectiveCost,
        CAST(BilledCost AS DECIMAL(38, 10)) AS BilledCost,
        NULL::VARCHAR AS x_CommitmentDiscountSpendEligibility, {flags} FROM warehouse"""
    )
    from_raw = engine.compute_measures(
        con,
        "raw_focus",
        rules=rules,
        tree=TREE,
        required_keys=list(focusdata.tag_keys(frame)),
        missing=cube.missing,
    )
    merged = from_cube.merge(
        from_raw, on=["period_start", "node_id", "measure"], suffixes=("_cube", "_raw")
    )
    assert len(merged) == len(from_cube)
    pd.testing.assert_series_equal(
        merged["value_cube"], merged["value_raw"], check_names=False, rtol=1e-12
    )


def test_every_content_measure_is_computed(tmp_path, generated):
    frame = focusdata.with_gaps(
        focusdata.read(generated[("azure", "1.3")]), eligibility=True
    )
    result, _ = portal_measures(
        tmp_path, frame, rules=[], invoice_totals={"none": Decimal(1)}
    )
    assert set(result["measure"]) == {m.key for m in MEASURES}


def test_commitment_coverage_without_eligibility_is_not_computable(tmp_path, generated):
    frame = focusdata.read(generated[("aws", "1.2")])
    result, _ = portal_measures(tmp_path, frame, rules=[])
    row = result[result["measure"] == "commitment_coverage"].iloc[0]
    assert row["value"] != row["value"]  # NaN, not zero
    assert row["note"] == (
        "Not computable from this export: it has no x_CommitmentDiscountSpendEligibility column."
    )


def test_invoice_reconciliation_waits_for_totals(tmp_path, generated):
    result, _ = portal_measures(
        tmp_path, focusdata.read(generated[("aws", "1.3")]), rules=[]
    )
    row = result[result["measure"] == "invoice_reconciliation"].iloc[0]
    assert row["note"] == "Enter the invoice totals to reconcile them."


def test_a_rule_on_a_tag_wins_over_a_later_sub_account_rule(tmp_path, generated):
    frame = focusdata.read(generated[("aws", "1.3")])
    account = frame.loc[
        frame["Tags"].str.contains("team-payments", na=False), "SubAccountId"
    ].iloc[0]
    rules = [
        {
            "position": 1,
            "team_id": TEAM_PAYMENTS,
            "kind": "tag",
            "key": "Owner",
            "value": "team-payments",
        },
        {
            "position": 2,
            "team_id": TEAM_DATA,
            "kind": "sub_account",
            "key": "",
            "value": account,
        },
    ]
    con = engine.connect()
    path = focusdata.write(frame, tmp_path / "f.csv")
    infos = files.inspect_files(con, [files.SourceFile(str(path), "f.csv")])
    engine.build_cube(con, infos)
    preview = engine.mapping_preview(con, "cube", rules)
    assert (
        preview["caught"][2] > preview["attributed"][2]
    )  # part of the account went to rule 1
    assert (
        preview["total"] - preview["unmapped"]
        == preview["attributed"][1] + preview["attributed"][2]
    )


# --- bad files: each refused with a message naming the problem --------------------------


def inspect_and_build(tmp_path, content: bytes, name="export.csv"):
    path = tmp_path / "upload.bin"
    path.write_bytes(content)
    con = engine.connect()
    infos = files.inspect_files(con, [files.SourceFile(str(path), name)])
    return engine.build_cube(con, infos)


def csv_bytes(frame) -> bytes:
    return frame.to_csv(index=False).encode()


def test_a_file_that_is_not_focus_names_the_missing_columns(tmp_path):
    with pytest.raises(files.FocusInputError) as error:
        inspect_and_build(tmp_path, b"Date,Amount,Account\n2026-05-01,12.5,a\n")
    assert error.value.messages == [
        "export.csv: not a FOCUS export: the required columns BillingAccountId, "
        "BillingCurrency, BillingPeriodStart, BillingPeriodEnd, BilledCost, "
        "EffectiveCost, ChargeCategory, SubAccountId, ResourceId, Tags, ProviderName "
        "are missing."
    ]


def test_an_unknown_focus_version_is_refused(tmp_path, generated):
    frame = focusdata.read(generated[("aws", "1.2")])
    frame["x_FocusVersion"] = "1.9"
    with pytest.raises(files.FocusInputError) as error:
        inspect_and_build(tmp_path, csv_bytes(frame))
    assert error.value.messages == [
        "export.csv: FOCUS version '1.9' is not supported; the portal reads FOCUS 1.0 to 1.3."
    ]


def test_mixed_focus_versions_are_refused(tmp_path, generated):
    a = tmp_path / "a.bin"
    b = tmp_path / "b.bin"
    a.write_bytes(generated[("aws", "1.2")].read_bytes())
    b.write_bytes(generated[("aws", "1.3")].read_bytes())
    con = engine.connect()
    with pytest.raises(files.FocusInputError) as error:
        files.inspect_files(
            con,
            [
                files.SourceFile(str(a), "may.csv"),
                files.SourceFile(str(b), "june.csv"),
            ],
        )
    assert error.value.messages == [
        "The files are in different FOCUS versions (may.csv is 1.2, june.csv is 1.3): "
        "upload the files of one version together."
    ]


def test_a_non_numeric_cost_is_refused(tmp_path, generated):
    frame = focusdata.read(generated[("gcp", "1.2")])
    frame.loc[frame.index[:2], "BilledCost"] = "12,50 EUR"
    with pytest.raises(files.FocusInputError) as error:
        inspect_and_build(tmp_path, csv_bytes(frame))
    assert error.value.messages == [
        "export.csv: BilledCost holds values that are not numbers in 2 rows (for "
        "example '12,50 EUR'); FOCUS costs are numbers."
    ]


def test_a_currency_mix_within_a_billing_account_is_refused(tmp_path, generated):
    frame = focusdata.read(generated[("azure", "1.3")])
    account = frame["BillingAccountId"].iloc[0]
    first = frame.index[frame["BillingAccountId"] == account][0]
    frame.loc[first, "BillingCurrency"] = "EUR"
    with pytest.raises(files.FocusInputError) as error:
        inspect_and_build(tmp_path, csv_bytes(frame))
    assert error.value.messages == [
        f"Billing account {account} mixes currencies (EUR, USD); FOCUS bills an account "
        "in one currency. Fix the export, then upload it again."
    ]


def test_an_empty_file_is_refused(tmp_path):
    with pytest.raises(files.FocusInputError) as error:
        inspect_and_build(tmp_path, b"")
    assert error.value.messages == ["export.csv: the file is empty."]


def test_a_header_without_rows_is_refused(tmp_path, generated):
    header = generated[("aws", "1.3")].read_bytes().split(b"\n")[0] + b"\n"
    with pytest.raises(files.FocusInputError) as error:
        inspect_and_build(tmp_path, header)
    assert error.value.messages == ["export.csv: the file has a header but no rows."]


def test_a_truncated_gzip_is_refused(tmp_path, generated):
    data = gzip.compress(generated[("aws", "1.3")].read_bytes())
    with pytest.raises(files.FocusInputError) as error:
        inspect_and_build(tmp_path, data[: len(data) // 2], name="export.csv.gz")
    [message] = error.value.messages
    assert message.startswith("export.csv.gz: the gzip file is truncated or damaged (")
    assert message.endswith("). Upload it again.")


def test_a_parquet_file_with_the_wrong_types_is_refused(tmp_path, generated):
    path = tmp_path / "typed.parquet"
    con = engine.connect()
    con.execute(
        f"COPY (SELECT * FROM read_csv('{generated[('gcp', '1.3')]}', all_varchar = true)) "
        f"TO '{path}' (FORMAT parquet)"
    )
    with pytest.raises(files.FocusInputError) as error:
        files.inspect_files(con, [files.SourceFile(str(path), "export.parquet")])
    assert error.value.messages == [
        "export.parquet: column BilledCost is VARCHAR; FOCUS needs a number (DECIMAL or DOUBLE).",
        "export.parquet: column EffectiveCost is VARCHAR; FOCUS needs a number (DECIMAL or DOUBLE).",
    ]


def test_a_zip_archive_is_refused(tmp_path):
    with pytest.raises(files.FocusInputError) as error:
        inspect_and_build(tmp_path, b"PK\x03\x04rest-of-archive", name="export.zip")
    assert error.value.messages == [
        "export.zip: a zip archive; unpack it and upload the CSV or Parquet files in it."
    ]


def test_sniffing_ignores_the_file_name(tmp_path, generated):
    path = tmp_path / "looks-like.parquet"
    path.write_bytes(gzip.compress(generated[("aws", "1.2")].read_bytes()))
    assert files.sniff_format(str(path)) == "csv.gz"


def test_estimated_rows_are_close_for_gzip(tmp_path, generated):
    source = generated[("aws", "1.3")]
    path = tmp_path / "f.bin"
    path.write_bytes(gzip.compress(source.read_bytes()))
    con = engine.connect()
    [info] = files.inspect_files(con, [files.SourceFile(str(path), "f.csv.gz")])
    actual = len(focusdata.read(source))
    assert abs(info.estimated_rows - actual) <= actual * 0.2


V12_ONLY = ["InvoiceId", "BillingAccountType", "SubAccountType"]
V11_ONLY = [
    "CapacityReservationId",
    "CapacityReservationStatus",
    "CommitmentDiscountQuantity",
    "CommitmentDiscountUnit",
    "CommitmentDiscountStatus",
    "ServiceSubcategory",
    "SkuMeter",
    "SkuPriceDetails",
]


@pytest.mark.parametrize(
    ("dropped", "version"), [(V12_ONLY, "1.1"), (V12_ONLY + V11_ONLY, "1.0")]
)
def test_older_focus_versions_are_read_and_say_what_they_cannot_measure(
    tmp_path, generated, dropped, version
):
    frame = focusdata.read(generated[("aws", "1.2")])
    frame = frame.drop(
        columns=[
            c for c in frame.columns if c in dropped or c.startswith("PricingCurrency")
        ]
    )
    path = focusdata.write(frame, tmp_path / "old.csv")
    con = engine.connect()
    [info] = files.inspect_files(con, [files.SourceFile(str(path), "old.csv")])
    assert info.version == version
    cube = engine.build_cube(con, [info])
    assert "InvoiceId" in cube.missing
    result = engine.compute_measures(
        con, "cube", rules=[], tree=[], required_keys=[], missing=cube.missing
    )
    note = result.loc[result["measure"] == "invoice_reconciliation", "note"].iloc[0]
    assert note == "Not computable from this export: it has no InvoiceId column."
    assert result.loc[result["measure"] == "tag_coverage", "value"].iloc[0] > 0
