"""Reading tables: CSV/TSV with a header row, and Parquet, into numbered records of column name -> value."""

import csv
import io
import sys
from typing import Any

from workbench.data.problems import problem
from workbench.data.records import ReadResult, Record


CSV_DELIMITERS = ",\t;|"


def looks_like_csv(text: str) -> bool:
    """True when the first line looks like a header row of a delimited table."""
    header = text.lstrip().split("\n", 1)[0]
    return any(header.count(delimiter) >= 1 for delimiter in CSV_DELIMITERS) and "\n" in text.strip()


def read_csv(text: str, delimiter: str | None) -> ReadResult:
    """A delimited table with a header row; each data row becomes a record of column name -> cell text."""
    result = ReadResult("csv")
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    dialect = _sniff(text, delimiter)
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = [name.strip() for name in next(reader, [])]
        result.columns = [name for name in header if name]
        if not result.columns:
            return _no_columns(result, "The CSV file has no header row naming its columns")
        if len(set(header)) < len(header):
            return _no_columns(result, "Some CSV columns have the same name or no name")
        result.total = _read_csv_rows(reader, header, result)
    except csv.Error as error:
        result.problems.append(
            problem("csv_no_columns", f"The CSV file could not be read ({error}); export it again.")
        )
        return result
    if not result.records and not result.problems:
        result.problems.append(problem("no_records", "The CSV file has column names but no rows of data."))
    return result


def _read_csv_rows(reader: Any, header: list[str], result: ReadResult) -> int:
    row, previous_end = 0, reader.line_num
    for values in reader:
        start, previous_end = previous_end + 1, reader.line_num
        if not any(value.strip() for value in values):
            continue
        row += 1
        if len(values) != len(header):
            message = (
                f"Row {row} (line {start}) has {len(values)} values but the header has {len(header)} columns; "
                "put quotes around text that contains the delimiter."
            )
            result.problems.append(problem("bad_csv_row", message, row))
            continue
        result.records.append(Record(row, None, dict(zip(header, values, strict=True))))
    return row


def _sniff(text: str, delimiter: str | None) -> Any:
    if delimiter:
        return type("Delimited", (csv.excel,), {"delimiter": delimiter})
    try:
        return csv.Sniffer().sniff(text[:65536], delimiters=CSV_DELIMITERS)
    except csv.Error:
        return csv.excel


def _no_columns(result: ReadResult, what: str) -> ReadResult:
    message = f"{what}; the first row must name the columns, e.g. prompt,completion."
    result.problems.append(problem("csv_no_columns", message))
    return result


def read_parquet(content: bytes) -> ReadResult:
    """The rows of a Parquet file as records of column name -> value."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(pa.BufferReader(content))
        values = table.to_pylist()
    except Exception as error:  # noqa: BLE001 - pyarrow raises many types for broken files; all mean "unreadable"
        message = f"The Parquet file could not be read ({str(error)[:120]}); export it again."
        return ReadResult("parquet", problems=[problem("not_parquet", message)])
    result = ReadResult(
        "parquet", [Record(n, None, value) for n, value in enumerate(values, 1)], [], table.column_names
    )
    if not values:
        result.problems.append(problem("no_records", "The Parquet file has no rows."))
    return result
