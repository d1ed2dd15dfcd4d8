"""Read Q&A test sets: project JSONL, SQuAD v2.0 JSON, RAGAS-style JSONL/CSV and plain CSV.

Every reader returns :class:`EvalItem` records. A bad file raises ``ValueError`` naming the file,
the line (or JSON path) and the field at fault, so the CLI can print it as is.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

DEFAULT_TYPE = "general"
PROJECT_FIELDS = ("id", "question", "answerable", "answers", "gold_quotes")
FORMATS_HELP = (
    "use .jsonl (project or RAGAS fields), .json (SQuAD v2.0) or .csv "
    "(header question,answer or user_input,reference,reference_contexts); see docs/eval.md"
)

Located = tuple[str, "EvalItem"]  # (where the item is in the file, the item)


@dataclass(frozen=True)
class EvalItem:
    """One test question with its gold answers and the article text that supports them."""

    id: str
    question: str
    answerable: bool
    answers: tuple[str, ...] = ()
    gold_quotes: tuple[str, ...] = ()
    type: str = DEFAULT_TYPE
    history: tuple[dict[str, Any], ...] = ()


def load_items(path: str | Path) -> list[EvalItem]:
    """Read a test set, choosing the format by extension and content.

    Raises:
        ValueError: unreadable, empty, malformed or unknown file; the message names the file,
            line (or JSON path) and field.
    """
    path = Path(path)
    text = _read_text(path)
    if not text.strip():
        raise ValueError(f"{path}: the file is empty; {FORMATS_HELP}")
    suffix = path.suffix.lower()
    if suffix == ".csv" or (suffix not in (".json", ".jsonl") and _looks_like_csv(text)):
        located = read_csv(path, text)
    elif suffix in (".jsonl", ".ndjson"):
        located = read_jsonl(path, text)
    elif suffix == ".json" or text.lstrip().startswith("{"):
        located = read_json(path, text)
    else:
        raise ValueError(f"{path}: unknown test-set format; {FORMATS_HELP}")
    if not located:
        raise ValueError(f"{path}: no questions found; {FORMATS_HELP}")
    _check_unique_ids(located)
    logger.info("read %d items from %s", len(located), path)
    return [item for _, item in located]


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the test set ({exc.strerror})") from exc


def _looks_like_csv(text: str) -> bool:
    header = [h.strip() for h in text.lstrip().splitlines()[0].split(",")]
    return "question" in header or "user_input" in header


def _check_unique_ids(located: list[Located]) -> None:
    seen: dict[str, str] = {}
    for where, item in located:
        if item.id in seen:
            raise ValueError(f"{where}: field 'id': {item.id!r} is already used at {seen[item.id]}")
        seen[item.id] = where


# --- JSON and JSONL -------------------------------------------------------------------------


def read_jsonl(path: Path, text: str) -> list[Located]:
    """Items of a JSONL file: project records, or RAGAS records if the first has ``user_input``."""
    records = _jsonl_records(path, text)
    if not records:
        return []
    ragas = "user_input" in records[0][1]
    located = []
    for line, record in records:
        where = f"{path}, line {line}"
        if ragas:
            located.append((where, ragas_item(record, where, default_id=f"line{line}")))
        else:
            located.append((where, project_item(record, where)))
    return located


def _jsonl_records(path: Path, text: str) -> list[tuple[int, dict[str, Any]]]:
    records = []
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"{path}, line {line}: invalid JSON ({exc.msg} at column {exc.colno})"
            ) from exc
        if not isinstance(record, dict):
            raise ValueError(
                f"{path}, line {line}: expected a JSON object, got {_type_name(record)}"
            )
        records.append((line, record))
    return records


def read_json(path: Path, text: str) -> list[Located]:
    """Items of a SQuAD v2.0 file (or of JSONL saved with a ``.json`` name)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":
            return read_jsonl(path, text)
        raise ValueError(
            f"{path}, line {exc.lineno}: invalid JSON ({exc.msg} at column {exc.colno})"
        ) from exc
    if isinstance(data, dict) and "data" in data:
        return read_squad(path, data)
    if isinstance(data, dict) and ("question" in data or "user_input" in data):
        return read_jsonl(path, text)
    raise ValueError(
        f"{path}: unknown JSON test set: expected a SQuAD v2.0 object with a 'data' list; "
        f"{FORMATS_HELP}"
    )


def read_squad(path: Path, data: Mapping[str, Any]) -> list[Located]:
    """Items of SQuAD v2.0 ``data -> paragraphs -> qas``; answer texts double as gold quotes."""
    located = []
    for i, article in enumerate(_list_of_objects(data, "data", f"{path}")):
        where_article = f"{path}, data[{i}]"
        for j, paragraph in enumerate(_list_of_objects(article, "paragraphs", where_article)):
            where_paragraph = f"{where_article}.paragraphs[{j}]"
            for k, qa in enumerate(_list_of_objects(paragraph, "qas", where_paragraph)):
                where = f"{where_paragraph}.qas[{k}]"
                located.append((where, squad_item(qa, where)))
    return located


def squad_item(qa: Mapping[str, Any], where: str) -> EvalItem:
    """One SQuAD ``qas`` entry as an item of type ``squad``."""
    impossible = qa.get("is_impossible", False)
    if not isinstance(impossible, bool):
        raise ValueError(f"{where}: field 'is_impossible' must be true or false")
    texts: list[str] = []
    for n, answer in enumerate(_list_of_objects(qa, "answers", where, required=False)):
        text = _text(answer, "text", f"{where}.answers[{n}]")
        if text not in texts:
            texts.append(text)
    answers = () if impossible else tuple(texts)
    return EvalItem(
        id=_id(qa, where),
        question=_text(qa, "question", where),
        answerable=not impossible,
        answers=answers,
        gold_quotes=answers,
        type="squad",
    )


def project_item(record: Mapping[str, Any], where: str) -> EvalItem:
    """One project JSONL record (fields in docs/eval.md)."""
    for name in PROJECT_FIELDS:
        if name not in record:
            raise ValueError(
                f"{where}: missing field '{name}' (required: {', '.join(PROJECT_FIELDS)})"
            )
    answerable = record["answerable"]
    if not isinstance(answerable, bool):
        raise ValueError(
            f"{where}: field 'answerable' must be true or false, got {_type_name(answerable)}"
        )
    return EvalItem(
        id=_id(record, where),
        question=_text(record, "question", where),
        answerable=answerable,
        answers=_strings(record.get("answers"), "answers", where),
        gold_quotes=_strings(record.get("gold_quotes"), "gold_quotes", where),
        type=_text(record, "type", where, default=DEFAULT_TYPE),
        history=_history(record.get("history"), where),
    )


def ragas_item(record: Mapping[str, Any], where: str, default_id: str) -> EvalItem:
    """One RAGAS-style record: ``user_input``, ``reference``, ``reference_contexts``."""
    if "reference" not in record:
        raise ValueError(f"{where}: missing field 'reference' (use an empty value if unanswerable)")
    reference = record["reference"]
    if reference is None:
        reference = ""
    if not isinstance(reference, str):
        raise ValueError(f"{where}: field 'reference' must be text, got {_type_name(reference)}")
    reference = reference.strip()
    return EvalItem(
        id=_id(record, where) if record.get("id") not in (None, "") else default_id,
        question=_text(record, "user_input", where),
        answerable=bool(reference),
        answers=(reference,) if reference else (),
        gold_quotes=_contexts(record.get("reference_contexts"), where),
        type=_text(record, "type", where, default="ragas"),
    )


# --- CSV ------------------------------------------------------------------------------------


def read_csv(path: Path, text: str) -> list[Located]:
    """Items of a CSV with header ``question,answer`` or RAGAS ``user_input,reference,...``."""
    reader = csv.DictReader(io.StringIO(text))
    header = [(name or "").strip() for name in reader.fieldnames or []]
    reader.fieldnames = header
    if "user_input" in header:
        ragas = True
    elif "question" in header and "answer" in header:
        ragas = False
    else:
        raise ValueError(
            f"{path}, line 1: unknown CSV header {','.join(header)!r}; expected "
            "question,answer or user_input,reference,reference_contexts"
        )
    located = []
    try:
        for row in reader:
            where = f"{path}, line {reader.line_num}"
            if None in row:
                raise ValueError(f"{where}: more fields than the header's {len(header)}")
            values = {k: (v or "").strip() for k, v in row.items()}
            if not any(values.values()):
                continue
            if ragas:
                item = ragas_item(values, where, default_id=f"line{reader.line_num}")
            else:
                item = plain_csv_item(values, where, default_id=f"line{reader.line_num}")
            located.append((where, item))
    except csv.Error as exc:
        raise ValueError(f"{path}, line {reader.line_num}: malformed CSV ({exc})") from exc
    return located


def plain_csv_item(row: Mapping[str, str], where: str, default_id: str) -> EvalItem:
    """A ``question,answer`` row; an empty answer marks the question unanswerable."""
    answer = row.get("answer", "")
    return EvalItem(
        id=row.get("id") or default_id,
        question=_text(row, "question", where),
        answerable=bool(answer),
        answers=(answer,) if answer else (),
        type=row.get("type") or "csv",
    )


# --- field checks ---------------------------------------------------------------------------


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false"}.get(
        type(value), type(value).__name__
    )


def _id(record: Mapping[str, Any], where: str) -> str:
    value = record.get("id")
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise ValueError(f"{where}: field 'id' must be a non-empty string or a number")
    return str(value)


def _text(record: Mapping[str, Any], name: str, where: str, default: str | None = None) -> str:
    value = record.get(name)
    if value is None or value == "":
        if default is not None:
            return default
        if name not in record:
            raise ValueError(f"{where}: missing field '{name}'")
        raise ValueError(f"{where}: field '{name}' is empty")
    if not isinstance(value, str):
        raise ValueError(f"{where}: field '{name}' must be text, got {_type_name(value)}")
    if not value.strip():
        raise ValueError(f"{where}: field '{name}' is empty")
    return value.strip()


def _strings(value: Any, name: str, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(
            f"{where}: field '{name}' must be a list of strings, got {_type_name(value)}"
        )
    return tuple(v.strip() for v in value if v.strip())


def _contexts(value: Any, where: str) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        value = _parse_list(value, where)
    return _strings(value, "reference_contexts", where)


def _parse_list(text: str, where: str) -> Any:
    """A list written as JSON, or as a Python literal (how pandas saves lists to CSV)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError) as exc:
        raise ValueError(
            f"{where}: field 'reference_contexts' must be a list of strings "
            '(in CSV, written as JSON, e.g. ["first", "second"])'
        ) from exc


def _history(value: Any, where: str) -> tuple[dict[str, Any], ...]:
    if value is None:
        return ()
    ok = isinstance(value, list) and all(
        isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)
        for m in value
    )
    if not ok:
        raise ValueError(
            f'{where}: field \'history\' must be a list of {{"role": ..., "content": ...}} '
            "objects with text values"
        )
    return tuple(dict(m) for m in value)


def _list_of_objects(
    record: Any, name: str, where: str, required: bool = True
) -> list[Mapping[str, Any]]:
    if not isinstance(record, dict):
        raise ValueError(f"{where}: expected a JSON object, got {_type_name(record)}")
    if name not in record:
        if not required:
            return []
        raise ValueError(f"{where}: missing field '{name}'")
    value = record[name]
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ValueError(f"{where}: field '{name}' must be a list of objects")
    return value
