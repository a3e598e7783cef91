"""read_source: Excel sheets, encodings, damaged compression, folders, permissions, headers."""

from __future__ import annotations

import builtins
import gzip
import os

import pandas as pd
import pytest

from churnlab import config
from churnlab.data import load_table, load_transactions, read_source
from churnlab.exceptions import ConfigError, DataValidationError

CSV = "customer_id,date,amount\nJosé,2021-01-05,10\nZoë,2021-01-06,12\n"


@pytest.fixture
def workbook(tmp_path, tiny_transactions):
    """A workbook with the log on its second sheet, 'Orders', and a notes sheet first."""
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"note": ["exported 2024-04-01"]}).to_excel(
            writer, sheet_name="Notes", index=False
        )
        tiny_transactions.to_excel(writer, sheet_name="Orders", index=False)
    return path


# Excel sheets ---------------------------------------------------------------------------


def test_workbook_with_several_sheets_needs_sheet(workbook):
    with pytest.raises(
        DataValidationError,
        match=r"book.xlsx' has 2 sheets \('Notes', 'Orders'\) and churnlab will not guess.*"
        r"sheet='Notes' \(CLI: --sheet Notes\).*sheet=0",
    ):
        load_transactions(workbook)


@pytest.mark.parametrize("sheet", ["Orders", 1, "1"])
def test_sheet_by_name_or_position(workbook, tiny_transactions, sheet):
    data = load_transactions(workbook, sheet=sheet).data
    assert len(data) == len(tiny_transactions)
    assert data[config.AMOUNT].sum() == tiny_transactions[config.AMOUNT].sum()


def test_missing_sheet_lists_the_sheets(workbook):
    with pytest.raises(
        DataValidationError,
        match=r"book.xlsx' has no sheet named 'Order' \(did you mean 'Orders'\?\)\. "
        r"Its sheets: 'Notes', 'Orders'",
    ):
        load_transactions(workbook, sheet="Order")


def test_sheet_position_out_of_range(workbook):
    with pytest.raises(DataValidationError, match=r"has no sheet at position 5 \(it has 2"):
        load_transactions(workbook, sheet=5)


def test_single_sheet_workbook_needs_no_option(tmp_path, tiny_transactions):
    path = tmp_path / "one.xlsx"
    tiny_transactions.to_excel(path, index=False)
    assert len(load_transactions(path).data) == len(tiny_transactions)


def test_sheet_for_a_csv_is_a_config_error(tmp_path, tiny_transactions):
    path = tmp_path / "log.csv"
    tiny_transactions.to_csv(path, index=False)
    with pytest.raises(ConfigError, match=r"sheet='Orders' only applies to Excel workbooks"):
        load_transactions(path, sheet="Orders")


def test_damaged_workbook(tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"not a zip file at all")
    with pytest.raises(DataValidationError, match=r"broken.xlsx' is not a readable Excel"):
        load_transactions(path)


# Encodings --------------------------------------------------------------------------------


def test_latin1_file_suggests_encoding(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(CSV.encode("latin-1"))
    with pytest.raises(
        DataValidationError,
        match=r"latin.csv' is not UTF-8 text: it holds bytes such as b'\\xe9' that UTF-8 cannot "
        r"decode.*"
        r"encoding='latin-1' \(CLI: --encoding latin-1\)",
    ):
        load_transactions(path)


def test_latin1_file_reads_with_encoding(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(CSV.encode("latin-1"))
    data = load_transactions(path, encoding="latin-1", observation_end="2021-12-31").data
    assert sorted(data[config.CUSTOMER_ID]) == ["José", "Zoë"]


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le"])
def test_utf16_file_suggests_utf16(tmp_path, codec):
    # 'utf-16' writes a byte-order mark; 'utf-16-le' does not
    path = tmp_path / "unicode.csv"
    path.write_bytes(CSV.encode(codec))
    with pytest.raises(
        DataValidationError,
        match=r"unicode.csv' is UTF-16 text.*encoding='utf-16' \(CLI: --encoding utf-16\)",
    ):
        load_transactions(path)


def test_utf16_file_reads_with_encoding(tmp_path):
    path = tmp_path / "unicode.csv.gz"
    path.write_bytes(gzip.compress(CSV.encode("utf-16")))
    data = load_transactions(path, encoding="utf-16", observation_end="2021-12-31").data
    assert sorted(data[config.CUSTOMER_ID]) == ["José", "Zoë"]


def test_unknown_encoding(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(CSV)
    with pytest.raises(ConfigError, match=r"encoding='latin-9x' is not a known text encoding"):
        load_transactions(path, encoding="latin-9x")


def test_unknown_encoding_in_read_options(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text(CSV)
    with pytest.raises(ConfigError, match=r"Cannot read '.*log.csv': unknown encoding: nope"):
        read_source(path, read_options={"encoding": "nope"})


def test_encoding_for_a_dataframe_is_a_config_error(tiny_transactions):
    with pytest.raises(ConfigError, match=r"encoding='latin-1' only applies to files"):
        load_transactions(tiny_transactions, encoding="latin-1")


# Compression --------------------------------------------------------------------------------


def test_truncated_gzip(tmp_path):
    whole = gzip.compress(("customer_id,date,amount\n" + "a,2021-01-05,1\n" * 5000).encode())
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(
        DataValidationError, match=r"cut.csv.gz' is a damaged or truncated compressed file"
    ):
        load_transactions(path)


def test_gz_that_is_not_gzip(tmp_path):
    path = tmp_path / "plain.csv.gz"
    path.write_text(CSV)
    with pytest.raises(
        DataValidationError,
        match=r"plain.csv.gz' is named .gz but is not gzip-compressed.*rename it to 'plain.csv'",
    ):
        load_transactions(path)


# Folders and globs ------------------------------------------------------------------------


def test_folder_of_csv_files_is_read_whole(tmp_path, random_transactions):
    folder = tmp_path / "logs"
    folder.mkdir()
    half = len(random_transactions) // 2
    random_transactions.iloc[:half].to_csv(folder / "2022.csv", index=False)
    random_transactions.iloc[half:].to_csv(folder / "2023.csv.gz", index=False)
    (folder / "_SUCCESS").write_text("")
    data = load_transactions(folder).data
    assert len(data) == len(random_transactions)
    assert data[config.AMOUNT].sum() == pytest.approx(random_transactions[config.AMOUNT].sum())


def test_folder_of_csv_files_must_share_columns(tmp_path, tiny_transactions):
    folder = tmp_path / "logs"
    folder.mkdir()
    tiny_transactions.to_csv(folder / "a.csv", index=False)
    tiny_transactions.drop(columns="amount").to_csv(folder / "b.csv", index=False)
    with pytest.raises(
        DataValidationError,
        match=r"The files of the folder '.*logs' do not share their columns: 'b.csv' differs "
        r"from 'a.csv' \(it lacks 'amount'\)",
    ):
        load_transactions(folder)


def test_glob_of_csv_files_must_share_columns(tmp_path, tiny_transactions):
    tiny_transactions.to_csv(tmp_path / "a.csv", index=False)
    tiny_transactions.assign(extra=1).to_csv(tmp_path / "b.csv", index=False)
    with pytest.raises(DataValidationError, match=r"'b.csv' differs from 'a.csv' \(it has extra"):
        load_transactions(str(tmp_path / "*.csv"))


def test_folder_of_parquet_files_still_reads(tmp_path, random_transactions):
    folder = tmp_path / "parts"
    folder.mkdir()
    random_transactions.to_parquet(folder / "part-0.parquet")
    assert len(load_transactions(folder).data) == len(random_transactions)


def test_folder_mixing_csv_and_parquet(tmp_path, tiny_transactions):
    tiny_transactions.to_csv(tmp_path / "a.csv", index=False)
    tiny_transactions.to_parquet(tmp_path / "b.parquet")
    with pytest.raises(DataValidationError, match=r"holds both CSV \(1\) and Parquet \(1\) files"):
        load_transactions(tmp_path)


def test_empty_folder(tmp_path):
    with pytest.raises(DataValidationError, match=r"holds no CSV or Parquet files"):
        load_transactions(tmp_path)


# Permissions ------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads all")
def test_unreadable_file_chmod(tmp_path):
    path = tmp_path / "secret.csv"
    path.write_text(CSV)
    path.chmod(0)
    try:
        with pytest.raises(DataValidationError, match=r"secret.csv': permission denied"):
            load_transactions(path)
    finally:
        path.chmod(0o600)


def test_unreadable_file(tmp_path, monkeypatch):
    path = tmp_path / "secret.csv"
    path.write_text(CSV)
    real_open = builtins.open

    def deny(file, *args, **kwargs):
        if os.fspath(file) == os.fspath(path):
            raise PermissionError(13, "Permission denied", os.fspath(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", deny)
    with pytest.raises(
        DataValidationError,
        match=r"Cannot read '.*secret.csv': permission denied \(Permission denied\)\. Ask for",
    ):
        load_transactions(path)


# Headers ----------------------------------------------------------------------------------


def test_repeated_header_column_is_refused(tmp_path):
    path = tmp_path / "twice.csv"
    path.write_text("customer_id,amount,date,amount\na,1,2021-01-05,2\n")
    with pytest.raises(
        DataValidationError,
        match=r"twice.csv' has a header that repeats column name\(s\) 'amount' \('amount' is "
        r"columns 2, 4\). pandas would silently rename the copy to 'amount.1'",
    ):
        load_transactions(path)


def test_repeated_header_column_in_excel(tmp_path):
    path = tmp_path / "twice.xlsx"
    frame = pd.DataFrame([["a", 1, "2021-01-05", 2]], columns=["customer_id", "amount", "d", "x"])
    frame.columns = ["customer_id", "amount", "date", "amount"]
    frame.to_excel(path, index=False)
    with pytest.raises(DataValidationError, match=r"repeats column name\(s\) 'amount'"):
        load_transactions(path)


def test_a_real_column_named_like_a_copy_is_fine(tmp_path):
    path = tmp_path / "ok.csv"
    path.write_text("customer_id,amount,date,amount.1\na,1,2021-01-05,2\n")
    assert list(read_source(path).columns) == ["customer_id", "amount", "date", "amount.1"]


def test_dataframe_with_repeated_columns():
    frame = pd.DataFrame([["a", 1, "2021-01-05", 2]], columns=["customer_id", "amount", "d", "x"])
    frame.columns = ["customer_id", "amount", "date", "amount"]
    with pytest.raises(DataValidationError, match=r"more than one column named 'amount'"):
        load_transactions(frame)


def test_load_table_reads_with_encoding(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_bytes("id,name\n1,José\n".encode("latin-1"))
    table = load_table(path, customer_id="id", encoding="latin-1")
    assert table.loc["1", "name"] == "José"


def test_damaged_parquet(tmp_path):
    path = tmp_path / "cut.parquet"
    path.write_bytes(b"PAR1 and then nothing")
    with pytest.raises(DataValidationError, match=r"cut.parquet' is not a readable Parquet file"):
        load_transactions(path)


@pytest.mark.parametrize(
    ("writer", "kind"), [("to_excel", "an Excel workbook"), ("to_parquet", "a Parquet file")]
)
def test_binary_file_named_csv(tmp_path, tiny_transactions, writer, kind):
    path = tmp_path / "export.csv"
    getattr(tiny_transactions, writer)(path, **({"index": False} if writer == "to_excel" else {}))
    with pytest.raises(
        DataValidationError, match=rf"export.csv' is named like a text file but is {kind}"
    ):
        load_transactions(path)


def test_encoding_for_a_parquet_file_is_a_config_error(tmp_path, tiny_transactions):
    path = tmp_path / "log.parquet"
    tiny_transactions.to_parquet(path)
    with pytest.raises(
        ConfigError, match=r"encoding='latin-1' only applies to text files \(CSV\), and '.*log"
    ):
        load_transactions(path, encoding="latin-1")


def test_xls_without_its_reader(tmp_path):
    pytest.importorskip("openpyxl")
    try:
        import xlrd  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("xlrd is installed, so .xls files can be read")
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    with pytest.raises(
        DataValidationError, match=r"Reading '.*old.xls' needs an Excel reader that is not"
    ):
        load_transactions(path)
