"""Reading tables: CSV/TSV with a header row, and Parquet, into numbered records of column name -> value.

Both are read in bounded time and memory: the CSV delimiter is found from the first lines in linear time (Python's
``csv.Sniffer`` is quadratic: 64 KB of one repeated pattern froze the server for half a minute), and Parquet is read
in batches that stop at ``MAX_RECORDS`` rows or ``MAX_PARQUET_BYTES`` of decoded data (a 482 KB file can hold
20 million rows).
"""

import csv
import io
import sys
from typing import Any

from workbench.data.problems import problem
from workbench.data.records import MAX_RECORDS, ReadResult, Record, TooManyRecords, too_many_records


CSV_DELIMITERS = ",\t;|"
SNIFF_CHARS = 16_384  # the start of the file that decides the delimiter
PARQUET_BATCH_ROWS = 65_536
MAX_PARQUET_BYTES = 512 * 2**20  # decoded Arrow data, all batches together


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
    except TooManyRecords:
        return ReadResult("csv", problems=[too_many_records("CSV file")], columns=result.columns)
    except csv.Error as error:
        result.problems.append(
            problem("csv_no_columns", f"The CSV file could not be read ({error}); export it again.")
        )
        return result
    if not result.records and not result.problems:
        result.problems.append(problem("no_records", "The CSV file has column names but no rows of data."))
    return result


def _read_csv_rows(reader: Any, header: list[str], result: ReadResult) -> int:
    """Each data row as a record numbered from 1, with its spreadsheet row (the header is row 1, blank rows count)
    as its line, which is where a spreadsheet program shows it."""
    row = 0
    for sheet_row, values in enumerate(reader, start=2):
        if not any(value.strip() for value in values):
            continue
        row += 1
        if row > MAX_RECORDS:
            raise TooManyRecords
        if len(values) != len(header):
            message = (
                f"This row has {len(values)} values but the header has {len(header)} columns; put quotes around "
                "text that contains the delimiter."
            )
            result.problems.append(problem("bad_csv_row", message, row, sheet_row))
            continue
        result.records.append(Record(row, sheet_row, dict(zip(header, values, strict=True))))
    return row


def _sniff(text: str, delimiter: str | None) -> Any:
    """The dialect of the table: the delimiter given, else the one that splits the first lines into the same number
    of columns most often (more columns break ties); standard double-quote quoting either way."""
    return type("Delimited", (csv.excel,), {"delimiter": delimiter or _delimiter(text[:SNIFF_CHARS])})


def _delimiter(sample: str) -> str:
    lines = sample.split("\n")
    sample = "\n".join(lines[:-1]) if len(lines) > 1 else sample  # the last line may be cut in the middle
    best, best_score = ",", (0, 0)
    for delimiter in CSV_DELIMITERS:
        try:
            widths = [len(row) for row in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter) if row]
        except csv.Error:
            continue
        if widths and widths[0] > 1:
            score = (sum(width == widths[0] for width in widths), widths[0])
            if score > best_score:
                best, best_score = delimiter, score
    return best


def _no_columns(result: ReadResult, what: str) -> ReadResult:
    message = f"{what}; the first row must name the columns, e.g. prompt,completion."
    result.problems.append(problem("csv_no_columns", message))
    return result


def read_parquet(content: bytes) -> ReadResult:
    """The rows of a Parquet file as records of column name -> value, read batch by batch within the limits."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(pa.BufferReader(content))
        columns = parquet.schema_arrow.names
        if parquet.metadata.num_rows > MAX_RECORDS:
            return ReadResult("parquet", problems=[too_many_records("Parquet file")], columns=columns)
        values, decoded = [], 0
        for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS):
            decoded += batch.nbytes
            if decoded > MAX_PARQUET_BYTES:
                return ReadResult("parquet", problems=[_too_big_decoded()], columns=columns)
            values += batch.to_pylist()
    except Exception as error:  # noqa: BLE001 - pyarrow raises many types for broken files; all mean "unreadable"
        message = f"The Parquet file could not be read ({str(error)[:120] or type(error).__name__}); export it again."
        return ReadResult("parquet", problems=[problem("not_parquet", message)])
    result = ReadResult("parquet", [Record(n, None, value) for n, value in enumerate(values, 1)], [], columns)
    if not values:
        result.problems.append(problem("no_records", "The Parquet file has no rows."))
    return result


def _too_big_decoded() -> Any:
    message = (
        f"The Parquet file unpacks to more than {MAX_PARQUET_BYTES // 2**20} MB of data, more than this server reads "
        "from one file; split it into smaller files."
    )
    return problem("too_large", message)
