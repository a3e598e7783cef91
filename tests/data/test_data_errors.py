"""Every DataValidationError / ConfigError the loaders raise, with its message checked."""

from __future__ import annotations

import pandas as pd
import pytest

from churnlab.data import CleaningPolicy, CleaningReport, load_table, load_transactions
from churnlab.data.validation import check_delimiter, parse_date, period_days, to_numeric_column
from churnlab.exceptions import ConfigError, DataValidationError


def test_missing_column_lists_columns_and_suggests(tiny_transactions):
    log = tiny_transactions.rename(columns={"customer_id": "customer"})
    with pytest.raises(
        DataValidationError,
        match=r"'customer_id' \(did you mean 'customer'\?\).*Available columns: 'customer'",
    ):
        load_transactions(log)


def test_missing_mapped_column(tiny_transactions):
    with pytest.raises(DataValidationError, match=r"'Amount' \(did you mean 'amount'\?\)"):
        load_transactions(tiny_transactions, amount="Amount")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(DataValidationError, match=r"empty.csv' is empty: it has no header"):
        load_transactions(path)


def test_header_only_file(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("customer_id,date,amount\n")
    with pytest.raises(
        DataValidationError, match=r"is empty: it has 0 rows \(columns: 'customer_id'"
    ):
        load_transactions(path)


def test_empty_dataframe():
    with pytest.raises(DataValidationError, match="the DataFrame is empty"):
        load_transactions(pd.DataFrame(columns=["customer_id", "date", "amount"]))


def test_wrong_delimiter(tmp_path, tiny_transactions):
    path = tmp_path / "semicolon.csv"
    tiny_transactions.to_csv(path, sep=";", index=False)
    with pytest.raises(
        DataValidationError,
        match=r"looks like ';'-separated. Pass sep=';' \(CLI: --sep ';'\)",
    ):
        load_transactions(path)
    loaded = load_transactions(path, sep=";")  # what the message says works
    assert len(loaded.data) == len(tiny_transactions)


def test_wrong_delimiter_tab():
    frame = pd.DataFrame({"customer_id\tdate\tamount": ["a\t2024-01-01\t3"]})
    with pytest.raises(
        DataValidationError,
        match=r"looks like '\\t'-separated. Pass sep='\\t' \(CLI: --sep '\\t'\)",
    ):
        check_delimiter(frame, where="the DataFrame")


def test_dates_that_do_not_parse(tiny_transactions):
    log = tiny_transactions.assign(date=["someday"] * 9 + ["2024-01-01"])
    with pytest.raises(
        DataValidationError,
        match=r"Column 'date' of the DataFrame: 9 of 10 dates do not parse \(90.0%.*"
        r"e.g. 'someday'.*pass its format, e.g. date_format='%d/%m/%Y %H:%M' \(CLI: --date-format",
    ):
        load_transactions(log)


def test_bad_dates_raise_when_policy_does_not_drop_them(random_transactions):
    log = random_transactions.assign(date=random_transactions["date"].astype(str))
    log.loc[0, "date"] = "31/02/2023"
    with pytest.raises(DataValidationError, match=r"1 of [\d,]+ dates do not parse.*at most 0%"):
        load_transactions(log, policy=CleaningPolicy(drop_unparsable_dates=False))


def test_amounts_that_are_not_numeric(tiny_transactions):
    log = tiny_transactions.astype({"amount": "object"})
    log.loc[[1, 2], "amount"] = ["£20", "thirty"]
    with pytest.raises(
        DataValidationError,
        match=r"column 'amount' must be numeric, but 2 of 10 values are not numbers, "
        r"e.g. '£20', 'thirty'. Remove currency symbols",
    ):
        load_transactions(log)


def test_decimal_comma_amounts_suggest_read_option():
    values = pd.Series(["1,50", "2,25"])
    with pytest.raises(
        DataValidationError, match=r"decimal comma: pass decimal=',' \(CLI: --decimal ,\)"
    ):
        to_numeric_column(values, column="Betrag", where="load_transactions")


def test_all_null_id_column(tiny_transactions):
    log = tiny_transactions.assign(customer_id=None)
    with pytest.raises(
        DataValidationError,
        match=r"customer_id column 'customer_id' has no values in any of the 10 rows.*"
        r"pass customer_id='<column",
    ):
        load_transactions(log)


def test_missing_ids_raise_when_policy_keeps_them(tiny_transactions):
    log = tiny_transactions.copy()
    log.loc[0, "customer_id"] = None
    with pytest.raises(DataValidationError, match=r"1 of 10 rows have no customer_id.*=False"):
        load_transactions(log, policy=CleaningPolicy(drop_missing_customer_id=False))


def test_path_not_found(tmp_path):
    with pytest.raises(DataValidationError, match=r"File not found: '.*nowhere.csv'"):
        load_transactions(tmp_path / "nowhere.csv")


def test_glob_matches_nothing(tmp_path):
    with pytest.raises(DataValidationError, match="No file matches the pattern"):
        load_transactions(str(tmp_path / "*.parquet"))


def test_unknown_file_type(tmp_path):
    path = tmp_path / "log.json"
    path.write_text("{}")
    with pytest.raises(DataValidationError, match=r"unknown file type '.json'. Supported: CSV"):
        load_transactions(path)


def test_unknown_source_type():
    with pytest.raises(DataValidationError, match="Cannot read a source of type list"):
        load_transactions([1, 2, 3])


def test_all_rows_dropped(tiny_transactions):
    with pytest.raises(DataValidationError, match=r"All 10 rows were dropped.*future_date: 10"):
        load_transactions(tiny_transactions, observation_end="2000-01-01")


def test_no_amount_mapping(tiny_transactions):
    with pytest.raises(ConfigError, match=r"pass amount='<column>' or both quantity="):
        load_transactions(tiny_transactions.drop(columns="amount"))


def test_price_without_quantity(tiny_transactions):
    with pytest.raises(ConfigError, match="got price='amount' but no quantity"):
        load_transactions(tiny_transactions.drop(columns="amount").assign(amount=1), price="amount")


def test_bad_observation_end(tiny_transactions):
    with pytest.raises(ConfigError, match=r"observation_end='soon' is not a date"):
        load_transactions(tiny_transactions, observation_end="soon")


def test_report_must_add_up():
    with pytest.raises(DataValidationError, match=r"does not add up: 5 kept \+ 3 dropped = 8"):
        CleaningReport(input_rows=10, kept_rows=5, dropped={"duplicate": 3})


def test_unknown_rule_name():
    with pytest.raises(ConfigError, match=r"Unknown cleaning rule\(s\) 'dupes'. Valid rules"):
        CleaningPolicy.only("dupes")


def test_load_table_duplicate_ids(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,x\n1,a\n1,b\n2,c\n")
    with pytest.raises(DataValidationError, match=r"'id' has 2 rows with a repeated id, e.g. '1'"):
        load_table(path, customer_id="id")


def test_load_table_missing_ids(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,x\n1,a\n,b\n")
    with pytest.raises(DataValidationError, match=r"'id' is empty in 1 of 2 rows"):
        load_table(path, customer_id="id")


def test_load_table_missing_column(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,x\n1,a\n")
    with pytest.raises(DataValidationError, match=r"load_table needs column\(s\) 'churn'"):
        load_table(path, customer_id="id", required=("churn",))


def test_wrong_delimiter_with_decimal_commas(tmp_path):
    # with decimal commas, the comma reader sees ragged rows and pandas fails to parse
    path = tmp_path / "euro.csv.gz"
    euro = pd.DataFrame(
        {"customer_id": ["a", "b"], "date": ["2024-01-01"] * 2, "amount": ["1", "2,5"]}
    )
    euro.to_csv(path, sep=";", index=False)
    with pytest.raises(DataValidationError, match=r"looks like ';'-separated"):
        load_transactions(path)
    loaded = load_transactions(path, sep=";", decimal=",")
    assert loaded.data["amount"].tolist() == [1.0, 2.5]


def test_separator_and_decimal_mark_are_checked(tmp_path):
    with pytest.raises(ConfigError, match=r"sep='ab' must be the one character"):
        load_transactions(tmp_path / "x.csv", sep="ab")
    with pytest.raises(ConfigError, match=r"decimal=';' must be ','"):
        load_transactions(tmp_path / "x.csv", decimal=";")
    with pytest.raises(ConfigError, match=r"decimal=',' is also the column separator"):
        load_transactions(tmp_path / "x.csv", decimal=",")
    frame = pd.DataFrame({"customer_id": ["a"], "date": ["2024-01-01"], "amount": [1.0]})
    with pytest.raises(ConfigError, match=r"sep=';' only applies to files"):
        load_transactions(frame, sep=";")


def test_malformed_csv(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("customer_id,date,amount\na,2024-01-01,1\nb,2024-01-02,2,7,8\n")
    with pytest.raises(DataValidationError, match=r"ragged.csv' is not a well-formed CSV"):
        load_transactions(path)


def test_all_null_order_id_column(tiny_transactions):
    log = tiny_transactions.assign(InvoiceNo=None)
    with pytest.raises(DataValidationError, match=r"order_id column 'InvoiceNo' has no values"):
        load_transactions(log, order_id="InvoiceNo")


def test_date_and_time_unit_parameters():
    assert parse_date("2011-09-01", name="cutoff") == pd.Timestamp("2011-09-01")
    with pytest.raises(ConfigError, match=r"cutoff='soon' is not a date"):
        parse_date("soon", name="cutoff")
    with pytest.raises(ConfigError, match="cutoff is missing"):
        parse_date(None, name="cutoff")
    with pytest.raises(ConfigError, match="cutoff must be a timezone-naive date"):
        parse_date(pd.Timestamp("2011-09-01", tz="UTC"), name="cutoff")
    assert period_days("W") == 7.0
    with pytest.raises(
        ConfigError, match=r"horizon_unit='Y' is not a known time unit.*'D', 'W', 'M'"
    ):
        period_days("Y", name="horizon_unit")
