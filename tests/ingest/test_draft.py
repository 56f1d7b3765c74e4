"""`cvre import SOURCE --draft FILE`: a mapping guessed from an export's headers and cells, judged by importing
with it and comparing what comes in with what the simulator wrote."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from ingest_helpers import MAPPINGS, write_export
from test_ingest_examples import HUBSPOT_ROWS, SALESFORCE_ROWS, csv_text

from cvre.core.config import PACKAGE_CONFIG_DIR
from cvre.core.io import read_tables
from cvre.features.config import FeatureConfig
from cvre.features.pipeline import build_features
from cvre.ingest import draft_guess as guess
from cvre.ingest.draft import draft_mapping
from cvre.ingest.draft_sample import header_row as draft_header
from cvre.ingest.errors import ExportFormatError
from cvre.ingest.mapping_check import load_mapping
from cvre.ingest.run import run_import
from cvre.simulation.world import simulate_world
from tests.conftest import DATASETS, small_config
from tests.workflows.cli_helpers import cvre

SALESFORCE = {"opportunity_id": "Opportunity ID", "account_id": "Account ID", "owner_id": "Opportunity Owner",
              "product": "Product Name", "business_type": "Type", "created_at": "Created Date", "stage": "Stage",
              "amount": "Amount"}
STAGE_LABELS = {"prospecting": "Prospecting", "qualification": "Needs Analysis", "proposal": "Proposal/Price Quote",
                "negotiation": "Negotiation/Review", "closed_won": "Closed Won", "closed_lost": "Closed Lost"}
TYPE_LABELS = {"new": "New Business", "repeat": "Existing Business - Renewal"}


def french_number(value: float) -> str:
    """12500.5 -> '12 500,50 €' with no-break spaces, as French spreadsheets write it."""
    return "" if pd.isna(value) else f"{value:,.2f} €".replace(",", "\u00a0").replace(".", ",")


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("draft") / "world"
    simulate_world(small_config(deals=300, seed=11), out, progress=False)
    return out


def european_salesforce_export(world: Path, folder: Path) -> Path:
    """Opportunities as a French Salesforce report (semicolons, Windows-1252, day-first dates, decimal commas,
    one "Close Date" that is the expected date while open) and accounts under their own names."""
    deals = pd.read_parquet(world / "export" / "opportunities.parquet")
    closed = deals["stage"].isin(["closed_won", "closed_lost"])
    report = pd.DataFrame({SALESFORCE[c]: deals[c] for c in SALESFORCE})
    report["Stage"] = deals["stage"].map(STAGE_LABELS)
    report["Type"] = deals["business_type"].map(TYPE_LABELS)
    report["Created Date"] = deals["created_at"].dt.strftime("%d/%m/%Y %H:%M")
    report["Amount"] = deals["amount"].map(french_number)
    report["Close Date"] = deals["closed_at"].where(closed, deals["expected_close_date"]).dt.strftime("%d/%m/%Y")
    report["Opportunity Name"] = "Affaire n°" + deals["opportunity_id"].str[-4:]  # a cp1252 character
    folder.mkdir(parents=True)
    report.to_csv(folder / "Opportunités.csv", sep=";", index=False, encoding="cp1252")
    accounts = pd.read_parquet(world / "export" / "accounts.parquet")
    accounts.rename(columns={"account_id": "Account ID", "employees": "Employees"}).to_csv(
        folder / "accounts.csv", index=False)
    (folder / "README.txt").write_text("exported from our CRM\non Monday; by Jo\n", encoding="utf-8")
    return folder


def test_a_drafted_mapping_imports_a_european_salesforce_report_as_simulated(world, tmp_path):
    source = european_salesforce_export(world, tmp_path / "export")
    draft = draft_mapping(source)
    assert set(draft.tables) == {"accounts", "opportunities"} and draft.unmapped_files == ["README.txt"]
    assert not draft.todos, draft.todos
    for setting in ('delimiter: ";"', 'encoding: "cp1252"', 'thousands: " "', 'decimal: ","',
                    'strip_from_numbers: ["€"]', 'currency: "EUR"',
                    'created_at: "%d/%m/%Y %H:%M"', '"Needs Analysis": qualification',
                    '"Negotiation/Review": negotiation',
                    '"Existing Business - Renewal": repeat', '{"rule": "date_when_open", "source": "Close Date"}'):
        assert setting in draft.text, setting
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(draft.text, encoding="utf-8")
    load_mapping(mapping)  # fits the canonical schema as drafted
    report = run_import(source, mapping, tmp_path / "imported")
    truth = pd.read_parquet(world / "export" / "opportunities.parquet").set_index("opportunity_id")
    accounts = pd.read_parquet(world / "export" / "accounts.parquet")["account_id"]
    known = truth["account_id"].isin(accounts).fillna(False) | truth["account_id"].isna()  # the simulator's own defects
    assert {n: (t.accepted, t.rejected) for n, t in report.tables.items()} == {
        "accounts": (len(accounts), 0), "opportunities": (known.sum(), (~known).sum())}
    assert report.tables["opportunities"].reasons == {"account_id: unknown reference": (~known).sum()}
    truth = truth[known]
    got = read_tables(tmp_path / "imported")["opportunities"].set_index("opportunity_id").loc[truth.index]
    for column in ("account_id", "owner_id", "product", "business_type", "stage", "outcome"):
        stripped = truth[column].astype(str).str.strip()  # the import strips cells
        assert got[column].astype(str).tolist() == stripped.tolist(), column
    assert got["amount"].isna().tolist() == truth["amount"].isna().tolist()
    assert (got["amount"] - truth["amount"]).abs().max() < 0.006
    assert got["created_at"].tolist() == truth["created_at"].dt.floor("min").tolist()
    closed = truth["stage"].isin(["closed_won", "closed_lost"])
    assert got["closed_at"][closed].tolist() == truth["closed_at"][closed].dt.normalize().tolist()
    assert got["expected_close_date"][~closed].tolist() == truth["expected_close_date"][~closed].dt.normalize().tolist()
    assert got["closed_at"][~closed].isna().all() and got["currency"].eq("EUR").all()


def test_date_layouts_read_off_the_cells():
    cells = pd.Series
    assert guess.date_format(cells(["2024-03-31", "2024-04-01 10:00"])).value is None  # ISO: the default
    assert guess.date_format(cells(["13/02/2024", "01/03/2024"])) == guess.Guess("%d/%m/%Y")
    assert guess.date_format(cells(["02/13/2024", "03/01/2024"])) == guess.Guess("%m/%d/%Y")
    ambiguous = guess.date_format(cells(["01/02/2024", "03/04/2024"]))
    assert ambiguous.value == "%d/%m/%Y" and "'%m/%d/%Y'" in ambiguous.note
    assert "set date_formats" in guess.date_format(cells(["31 March", "yesterday"])).note
    assert guess.date_format(cells(["3/28/24", "12/1/24"])).value == "%m/%d/%y"  # US Excel, short years
    assert guess.date_format(cells(["28-Mar-2024", "01-Apr-2024"])).value == "%d-%b-%Y"
    assert guess.date_format(cells(["Mar 28, 2024", "Apr 1, 2024"])).value == "%b %d, %Y"


@pytest.mark.parametrize(("cells", "thousands", "decimal"), [
    (["12 500,50", "7,5"], " ", ","),
    (["12.500", "3.000.000"], ".", ","),
    (["1,054", "12.5"], ",", "."),
    (["0.125", "3.5"], None, "."),
    (["12,5", "3"], None, ","),
    (["1250", ""], None, "."),
    (["1234.5", "99.95", "12,5"], None, "."),  # one stray decimal comma does not turn the table over
    (["1.234,56", "12,5"], ".", ","),
])
def test_number_formats_read_off_the_cells(cells, thousands, decimal):
    found = guess.number_format(pd.Series(cells)).value
    assert (found.thousands, found.decimal) == (thousands, decimal)


def test_signs_around_numbers_are_stripped_and_name_the_currency():
    found = guess.number_format(pd.Series(["$12,500.00", "$800", "15%"])).value
    assert (found.thousands, found.decimal, found.affixes) == (",", ".", ("$", "%"))
    assert guess.currency_of(found) == "USD"
    assert guess.currency_of(guess.number_format(pd.Series(["12 500,00 EUR", "3 $"])).value) is None  # two: unsure


def test_the_header_row_is_the_first_full_one():
    title = [["Pipeline report", "", "", ""], ["Run 2024-06-30", "", "", ""], ["", "", "", ""]]
    header, row = ["Deal", "Stage", "Amount", "Close"], ["D1", "Won", "10", "2024-01-01"]
    assert draft_header([*title, header, row, row]) == 3
    assert draft_header([header, row, row]) == 0
    assert draft_header([["", "Stage", "Amount"], ["0", "Won", "10"]]) == 0  # a saved index's blank name


def test_stage_labels_by_their_words_and_the_rest_left_to_the_user():
    known, unknown = guess.canonical_labels(pd.Series(["Closed Won", "closed_lost", "Devis envoyé", "Foo", None]),
                                            "stage", ("prospecting", "qualification", "proposal", "negotiation",
                                                      "closed_won", "closed_lost"))
    assert known == {"Devis envoyé": "proposal"} and unknown == ["Foo"]  # "Closed Won" reads as closed_won as is
    stems_inside = ["Ready to Close", "Following Up", "Unqualified"]  # "lose", "win", "qualif" inside a word
    assert guess.canonical_labels(pd.Series(stems_inside), "stage", ("prospecting", "qualification", "proposal",
                                  "negotiation", "closed_won", "closed_lost"))[1] == sorted(stems_inside)
    stages = ("prospecting", "qualification", "proposal", "negotiation", "closed_won", "closed_lost")
    words = ["Gagné", "Perdu", "Gewonnen", "Verloren", "Angebot", "Verhandlung", "Ganada", "Perdida", "Propuesta"]
    assert guess.canonical_labels(pd.Series(words), "stage", stages)[0] == {
        "Angebot": "proposal", "Ganada": "closed_won", "Gagné": "closed_won", "Gewonnen": "closed_won",
        "Perdida": "closed_lost", "Perdu": "closed_lost", "Propuesta": "proposal", "Verhandlung": "negotiation",
        "Verloren": "closed_lost"}


def test_the_command_writes_a_draft_once_and_says_what_to_review(world, tmp_path):
    source = european_salesforce_export(world, tmp_path / "export")
    target = tmp_path / "drafts" / "mine.yaml"
    ran = cvre("import", str(source), "--draft", str(target))
    assert ran.code == 0 and "opportunities <- Opportunités.csv" in ran.output
    assert "not mapped: README.txt" in ran.output
    assert f"--mapping {target} --check" in ran.output and target.read_text(encoding="utf-8").startswith("# Draft")
    again = cvre("import", str(source), "--draft", str(target))
    assert again.clean and again.code == 2 and "already exists" in again.output
    neither = cvre("import", str(source))
    assert neither.clean and neither.code == 2 and "--draft FILE" in neither.output
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.csv").write_text("colour,size\nred,3\n", encoding="utf-8")
    nothing = cvre("import", str(tmp_path / "notes"), "--draft", str(tmp_path / "n.yaml"))
    assert nothing.clean and "no file has columns that look like a CRM table" in nothing.output
    assert not (tmp_path / "n.yaml").exists()


@pytest.mark.parametrize(("rows", "file", "mapping"), [(SALESFORCE_ROWS, "opportunities.csv",
                                                        "salesforce_opportunities"),
                                                       (HUBSPOT_ROWS, "deals.csv", "hubspot_deals")])
def test_drafts_of_vendor_exports_read_them_as_the_shipped_examples_do(tmp_path, rows, file, mapping):
    source = write_export(tmp_path, {file: csv_text(rows)})
    (tmp_path / "draft.yaml").write_text(draft_mapping(source).text, encoding="utf-8")
    run_import(source, tmp_path / "draft.yaml", tmp_path / "drafted")
    run_import(source, MAPPINGS / "examples" / f"{mapping}.yaml", tmp_path / "shipped")
    ours, theirs = (read_tables(tmp_path / d)["opportunities"].set_index("opportunity_id") for d in ("drafted",
                                                                                                   "shipped"))
    assert len(theirs) >= 3 and theirs.index.isin(ours.index).all()
    for column in ("stage", "outcome", "created_at", "closed_at", "expected_close_date", "amount", "owner_id"):
        assert ours.loc[theirs.index, column].astype(str).tolist() == theirs[column].astype(str).tolist(), column


CUSTOMERS = """Customer ID,State,Signup Date,Plan,International Plan,Day Minutes,Service Calls,Notes,Attrition_Flag
C-1,KS,2023-01-05,Gold,No,265.1,1,called twice about roaming,Existing Customer
C-2,OH,2023-02-11,Basic,Yes,161.6,4,wants a discount,Attrited Customer
C-3,NJ,2023-03-20,Basic,No,243.4,0,,Existing Customer
C-4,OH,2023-04-02,Gold,Yes,299.4,2,moved abroad in May,Attrited Customer
"""


def test_a_per_customer_churn_export_keeps_its_columns_as_typed_model_inputs(tmp_path):
    source = write_export(tmp_path, {"customers.csv": CUSTOMERS})
    draft = draft_mapping(source)
    accounts = draft.tables["accounts"]
    assert accounts.columns == {"account_id": "Customer ID", "region": "State", "created_at": "Signup Date",
                                "churned": "Attrition_Flag"}
    assert accounts.values["churned"] == {"Attrited Customer": True, "Existing Customer": False}
    assert accounts.extras == {"x_plan": "Plan", "x_international_plan": {"source": "International Plan",
                                                                          "kind": "bool"},
                               "x_day_minutes": {"source": "Day Minutes", "kind": "float"},
                               "x_service_calls": {"source": "Service Calls", "kind": "int"}}  # no free text
    assert any("known only after the churn" in c for c in draft.checks)
    (tmp_path / "draft.yaml").write_text(draft.text, encoding="utf-8")
    run_import(source, tmp_path / "draft.yaml", tmp_path / "out")
    imported = read_tables(tmp_path / "out")
    assert imported["accounts"]["churned"].tolist() == [False, True, False, True]
    extras = imported["accounts_extra"].set_index("account_id")
    assert extras.loc["C-2", "x_international_plan"] == True and extras.loc["C-4", "x_day_minutes"] == 299.4  # noqa: E712


def test_placeholders_are_missing_values_and_a_date_layout_may_miss_a_few_cells(tmp_path):
    rows = "".join(f"T{i},{i % 28 + 1}/3/2016 09:{i % 60:02d},{'?' if i % 3 else f'{i % 28 + 1}/4/2016 10:00'}\n"
                   for i in range(40))
    source = write_export(tmp_path, {"tickets.csv": "number,opened_at,resolved_at\n" + rows + "T99,soon,?\n"})
    draft = draft_mapping(source)
    assert 'missing_values: ["?"]' in draft.text and 'resolved_at: "%d/%m/%Y %H:%M"' in draft.text
    assert any("1 cells read in no layout (e.g. 'soon')" in c for c in draft.checks)
    (tmp_path / "draft.yaml").write_text(draft.text, encoding="utf-8")
    report = run_import(source, tmp_path / "draft.yaml", tmp_path / "out")
    assert (report.tables["ticket_events"].accepted, report.tables["ticket_events"].reasons) == (
        40, {"opened_at: not a date": 1})


def test_whitespace_separated_text_with_a_header(tmp_path):
    text = " customer_id  date number_of_cds  dollar_value\n 00001 19970101  1   11.77\n 00002 19970112  2   89.00\n"
    source = write_export(tmp_path, {"purchases.txt": text})
    draft = draft_mapping(source)
    assert "format: whitespace" in draft.text and 'occurred_at: "%Y%m%d"' in draft.text
    (tmp_path / "draft.yaml").write_text(draft.text, encoding="utf-8")
    run_import(source, tmp_path / "draft.yaml", tmp_path / "out")
    assert read_tables(tmp_path / "out")["transactions"]["amount"].tolist() == [11.77, 89.0]


def test_encoding_read_off_the_whole_file_and_html_named(tmp_path):
    head = "Deal ID,Deal Stage,Create Date\n" + "D1,Closed Won,2024-01-01\n" * 5000
    source = write_export(tmp_path, {"deals.csv": (head + "D2,Négociation,2024-01-02\n").encode("cp1252")})
    draft = draft_mapping(source)
    assert 'encoding: "cp1252"' in draft.text and '"Négociation": negotiation' in draft.text  # read as written
    (tmp_path / "html").mkdir()
    (tmp_path / "html" / "report.xls").write_text("<table><tr><td>Deal</td></tr></table>", encoding="utf-8")
    with pytest.raises(ExportFormatError, match="an HTML page, not a table file"):
        draft_mapping(tmp_path / "html" / "report.xls")


def test_yes_no_words():
    known, unknown = guess.yes_no_labels(pd.Series(["Churned", "Active", "Yes", "0", "maybe", "Inactive"]))
    assert known == {"Active": False, "Churned": True, "Inactive": True} and unknown == ["maybe"]
    negated, _ = guess.yes_no_labels(pd.Series(["Not Churned", "No Churn", "Not Retained"]))
    assert negated == {"No Churn": False, "Not Churned": False, "Not Retained": True}


@pytest.mark.real_data
@pytest.mark.skipif(not DATASETS.exists(), reason="../shared/datasets not present")
def test_a_drafted_mapping_of_the_telecom_churn_file_trains_on_its_usage(tmp_path):
    source = DATASETS / "orange_telecom_churn" / "churn-bigml-80.csv"
    (tmp_path / "draft.yaml").write_text(draft_mapping(source).text, encoding="utf-8")
    report = run_import(source, tmp_path / "draft.yaml", tmp_path / "telecom")
    assert (report.tables["accounts"].accepted, report.tables["accounts"].rejected) == (2666, 0)
    assert read_tables(tmp_path / "telecom")["accounts"]["churned"].sum() == 388  # as published
    run = build_features(tmp_path / "telecom", FeatureConfig())
    assert {"x_customer_service_calls", "x_international_plan", "x_total_day_minutes"} <= set(run.client_features)


@pytest.mark.real_data
@pytest.mark.skipif(not DATASETS.exists(), reason="../shared/datasets not present")
def test_a_drafted_mapping_of_maven_imports_what_the_curated_one_does(tmp_path):
    draft = draft_mapping(DATASETS / "maven_crm")
    (tmp_path / "draft.yaml").write_text(draft.text, encoding="utf-8")
    drafted = run_import(DATASETS / "maven_crm", tmp_path / "draft.yaml", tmp_path / "drafted")
    curated = run_import(DATASETS / "maven_crm", PACKAGE_CONFIG_DIR / "mappings" / "maven_crm.yaml", tmp_path / "c")
    for table in ("accounts", "reps", "products", "opportunities"):
        assert drafted.tables[table].accepted == curated.tables[table].accepted, table
    ours, theirs = (read_tables(tmp_path / d)["opportunities"].set_index("opportunity_id").sort_index()
                    for d in ("drafted", "c"))
    for column in ("stage", "outcome", "owner_id", "created_at", "closed_at"):
        assert ours[column].astype(str).tolist() == theirs[column].astype(str).tolist(), column


DRAFTED_AS_SHIPPED = {  # dataset: (its shipped mapping, the table both read, columns both fill alike)
    "servicedesk_incident_log": ("servicedesk_incident_log", "ticket_events",
                                 ("ticket_id", "opened_at", "resolved_at", "closed_at", "made_sla")),
    "support_conversations": ("support_conversations", "support_messages",
                              ("message_id", "inbound", "created_at", "in_reply_to")),
    "hillstrom_email_ab": ("hillstrom_email_ab", "ab_units", ("arm", "visited", "converted", "revenue")),
}


@pytest.mark.real_data
@pytest.mark.skipif(not DATASETS.exists(), reason="../shared/datasets not present")
@pytest.mark.parametrize("dataset", sorted(DRAFTED_AS_SHIPPED))
def test_drafts_of_the_other_real_exports_read_them_as_their_shipped_mappings_do(tmp_path, dataset):
    mapping, table, columns = DRAFTED_AS_SHIPPED[dataset]
    (tmp_path / "draft.yaml").write_text(draft_mapping(DATASETS / dataset).text, encoding="utf-8")
    drafted = run_import(DATASETS / dataset, tmp_path / "draft.yaml", tmp_path / "drafted")
    shipped = run_import(DATASETS / dataset, PACKAGE_CONFIG_DIR / "mappings" / f"{mapping}.yaml", tmp_path / "s")
    assert drafted.tables[table].accepted == shipped.tables[table].accepted > 0
    ours, theirs = (read_tables(tmp_path / d)[table] for d in ("drafted", "s"))
    for column in columns:
        assert ours[column].astype(str).tolist() == theirs[column].astype(str).tolist(), column


@pytest.mark.real_data
@pytest.mark.skipif(not DATASETS.exists(), reason="../shared/datasets not present")
def test_every_real_export_drafts_and_imports_or_stops_with_one_clean_error(tmp_path):
    for folder in sorted(p for p in DATASETS.iterdir() if p.is_dir()):
        ran = cvre("import", str(folder), "--draft", str(tmp_path / f"{folder.name}.yaml"))
        assert ran.clean, ran.output
        if ran.code == 0:
            imported = cvre("import", str(folder), "-m", str(tmp_path / f"{folder.name}.yaml"), "-o",
                            str(tmp_path / folder.name))
            assert imported.code == 0 and " 0 accepted" not in imported.output, imported.output


def test_exports_the_first_review_found_hard(tmp_path):
    """Shapes a review of the draft found it mishandled: each now drafts, and the draft loads and imports."""
    exports = {
        "semicolons": "Deal ID;Deal Stage;Create Date;Notes\nD1;Closed Won;2024-01-01;ok\n"
                      "D2;Closed Lost;2024-01-02;Met CFO, CTO, COO, discussed price, timeline\n",
        "titled": "Deals report,Q1 2024,All owners\nDeal ID,Deal Stage,Create Date,Amount,Owner\n"
                  "D1,Closed Won,2024-01-01,10,Jo\nD2,Closed Lost,2024-01-02,20,Al\n",
        "mojibake": "Deal ID,Deal Stage,Create Date,\u00e2\u0080\u0099s note\nD1,Closed Won,2024-01-01,x\n",
    }
    for name, text in exports.items():
        source = write_export(tmp_path / name, {"deals.csv": text}) if (tmp_path / name).mkdir() is None else None
        draft = draft_mapping(source)
        assert draft.tables["opportunities"].columns["stage"] == "Deal Stage", name
        (tmp_path / f"{name}.yaml").write_text(draft.text, encoding="utf-8")
        load_mapping(tmp_path / f"{name}.yaml")
        report = run_import(source, tmp_path / f"{name}.yaml", tmp_path / name / "out")
        assert report.tables["opportunities"].accepted == 2 - (name == "mojibake"), name


def test_model_inputs_whose_names_meet_get_their_own_x_name(tmp_path):
    text = "Customer ID,Churn,Calls #,Calls %\n" + "".join(f"C{i},{i % 2},{i},{i * 10}\n" for i in range(8))
    extras = draft_mapping(write_export(tmp_path, {"customers.csv": text})).tables["accounts"].extras
    assert extras == {"x_calls": {"source": "Calls #", "kind": "int"}, "x_calls_2": {"source": "Calls %",
                                                                                      "kind": "int"}}


def test_headers_that_differ_only_by_spaces_are_named(tmp_path):
    source = write_export(tmp_path, {"deals.csv": "Deal ID,Amount,Amount \nD1,1,2\n"})
    with pytest.raises(ExportFormatError, match="differ only by spaces or repeat: 'Amount'"):
        draft_mapping(source)


def test_a_workbook_with_an_empty_sheet_and_a_chart_drafts_its_table(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Deals"
    for row in (("Deal ID", "Deal Stage", "Create Date"), ("D1", "Closed Won", "2024-01-01")):
        book.active.append(row)
    book.create_sheet("Empty")
    book.create_chartsheet("Chart")
    book.save(tmp_path / "deals.xlsx")
    draft = draft_mapping(tmp_path / "deals.xlsx")
    assert {n: t.sample.name for n, t in draft.tables.items()} == {"opportunities": "deals.xlsx [Deals]"}
