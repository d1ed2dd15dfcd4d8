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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

DEFAULT_TYPE = "general"
PROJECT_FIELDS = ("id", "question", "answerable", "answers", "gold_quotes")
FORMATS_HELP = (
    "use .jsonl (project or RAGAS fields), .json (SQuAD v2.0 or a list of RAGAS records) or "
    ".csv (header question,answer or user_input,reference,reference_contexts); see docs/eval.md"
)
# Field names that make a record RAGAS-style (current names, then the legacy ones).
RAGAS_FIELDS = (
    "user_input",
    "reference",
    "reference_contexts",
    "response",
    "retrieved_contexts",
    "ground_truth",
    "ground_truths",
    "contexts",
)
REFERENCE_FIELDS = ("reference", "ground_truth", "ground_truths")

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
    context: str = ""
    answer_spans: tuple[tuple[int, int], ...] = ()
    """SQuAD: the paragraph and the ``[start, end)`` of each answer in it (from ``answer_start``
    when it points at the answer text); the gold locations, once the context is found in the
    corpus."""


@dataclass(frozen=True)
class Problem:
    """Something wrong with a test set.

    Attributes:
        text: The message, naming the file, line (or JSON path) and field.
        ids: The items it concerns (empty for a line that could not be read as an item).
        malformed: Whether the item could not be read at all (it can only be skipped).
    """

    text: str
    ids: tuple[str, ...] = ()
    malformed: bool = False


@dataclass(frozen=True)
class Context:
    """A SQuAD paragraph's ``context`` and the ids of its questions."""

    where: str
    text: str
    ids: tuple[str, ...]


@dataclass(frozen=True)
class TestSet:
    """The items read from a file, every problem found in it, and SQuAD contexts to check."""

    __test__ = False  # not a pytest test class, despite its name

    items: tuple[EvalItem, ...]
    problems: tuple[Problem, ...] = ()
    contexts: tuple[Context, ...] = ()
    where: tuple[tuple[str, str], ...] = ()  # (item id, where it is in the file)


@dataclass
class _Reading:
    """What a reader collects: the items that parsed, problems, SQuAD contexts."""

    located: list[Located] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    contexts: list[Context] = field(default_factory=list)

    def add(
        self, where: str, make: Callable[..., EvalItem], *args: Any, **kw: Any
    ) -> EvalItem | None:
        """Append ``make(*args, **kw)``'s item, or its ``ValueError`` as a malformed problem."""
        try:
            item = make(*args, **kw)
        except ValueError as exc:
            self.problems.append(Problem(str(exc), malformed=True))
            return None
        self.located.append((where, item))
        return item


def load_items(path: str | Path) -> list[EvalItem]:
    """Read a test set, choosing the format by extension and content.

    Raises:
        ValueError: unreadable, empty, unknown file or a malformed item; the message names the
            file, line (or JSON path) and field of the first malformed item.
    """
    test_set = read_test_set(path)
    for problem in test_set.problems:
        if problem.malformed:
            raise ValueError(problem.text)
    return list(test_set.items)


def read_test_set(path: str | Path) -> TestSet:
    """Read a test set, collecting every malformed item and duplicate id instead of stopping
    at the first.

    Raises:
        ValueError: unreadable, empty or unknown file, or no item could be read at all.
    """
    path = Path(path)
    text = _read_text(path)
    if not text.strip():
        raise ValueError(f"{path}: the file is empty; {FORMATS_HELP}")
    suffix = path.suffix.lower()
    if suffix == ".csv" or (suffix not in (".json", ".jsonl") and _looks_like_csv(text)):
        reading = read_csv(path, text)
    elif suffix in (".jsonl", ".ndjson"):
        reading = read_jsonl(path, text)
    elif suffix == ".json" or text.lstrip().startswith("{"):
        reading = read_json(path, text)
    else:
        raise ValueError(f"{path}: unknown test-set format; {FORMATS_HELP}")
    if not reading.located and not reading.problems:
        raise ValueError(f"{path}: no questions found; {FORMATS_HELP}")
    located, duplicates = _unique_ids(reading.located)
    logger.info("read %d items from %s", len(located), path)
    return TestSet(
        items=tuple(item for _, item in located),
        problems=tuple(reading.problems + duplicates),
        contexts=tuple(reading.contexts),
        where=tuple((item.id, where) for where, item in located),
    )


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the test set ({exc.strerror})") from exc


def _looks_like_csv(text: str) -> bool:
    header = [h.strip().lower() for h in text.lstrip().splitlines()[0].split(",")]
    return "question" in header or "user_input" in header


def _unique_ids(located: list[Located]) -> tuple[list[Located], list[Problem]]:
    """The items with a new id, and a malformed problem for each repeated one."""
    seen: dict[str, str] = {}
    kept, problems = [], []
    for where, item in located:
        if item.id in seen:
            text = f"{where}: field 'id': {item.id!r} is already used at {seen[item.id]}"
            problems.append(Problem(text, (item.id,), malformed=True))
            continue
        seen[item.id] = where
        kept.append((where, item))
    return kept, problems


# --- JSON and JSONL -------------------------------------------------------------------------


def is_ragas(record: Mapping[str, Any]) -> bool:
    """Whether a record uses RAGAS field names (current or legacy) rather than the project's."""
    return "answerable" not in record and any(name in record for name in RAGAS_FIELDS)


def read_record(reading: _Reading, record: Mapping[str, Any], where: str, default_id: str) -> None:
    """Add one JSON record, as a RAGAS or a project item (see :func:`is_ragas`)."""
    if is_ragas(record):
        reading.add(where, ragas_item, record, where, default_id=default_id)
    else:
        reading.add(where, project_item, record, where)


def read_jsonl(path: Path, text: str) -> _Reading:
    """Items of a JSONL file: project records or RAGAS records (current or legacy names)."""
    reading = _Reading()
    records = []
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            records.append((line, _json_object(path, line, raw)))
        except ValueError as exc:
            reading.problems.append(Problem(str(exc), malformed=True))
    for line, record in records:
        read_record(reading, record, f"{path}, line {line}", f"line{line}")
    return reading


def read_json_records(path: Path, data: list[Any]) -> _Reading:
    """Items of a JSON array of records (as ``json.dump(dataset.to_list())`` writes them)."""
    reading = _Reading()
    for i, record in enumerate(data):
        where = f"{path}, [{i}]"
        if isinstance(record, dict):
            read_record(reading, record, where, f"item{i + 1}")
        else:
            text = f"{where}: expected a JSON object, got {_type_name(record)}"
            reading.problems.append(Problem(text, malformed=True))
    return reading


def _json_object(path: Path, line: int, raw: str) -> dict[str, Any]:
    try:
        record = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{path}, line {line}: invalid JSON ({exc.msg} at column {exc.colno})"
        ) from exc
    if not isinstance(record, dict):
        raise ValueError(f"{path}, line {line}: expected a JSON object, got {_type_name(record)}")
    return record


def read_json(path: Path, text: str) -> _Reading:
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
    if isinstance(data, list):
        return read_json_records(path, data)
    if isinstance(data, dict) and ("question" in data or "user_input" in data):
        return read_jsonl(path, text)
    raise ValueError(
        f"{path}: unknown JSON test set: expected a SQuAD v2.0 object with a 'data' list or a "
        f"list of records; {FORMATS_HELP}"
    )


def read_squad(path: Path, data: Mapping[str, Any]) -> _Reading:
    """Items of SQuAD v2.0 ``data -> paragraphs -> qas``; answer texts double as gold quotes.

    Each paragraph's ``context`` is kept to be checked against the corpus, and each answer's
    ``answer_start`` is checked against it.
    """
    reading = _Reading()
    for i, article in enumerate(_list_of_objects(data, "data", f"{path}")):
        where_article = f"{path}, data[{i}]"
        for j, paragraph in enumerate(_list_of_objects(article, "paragraphs", where_article)):
            where_paragraph = f"{where_article}.paragraphs[{j}]"
            context = paragraph.get("context")
            ids = []
            for k, qa in enumerate(_list_of_objects(paragraph, "qas", where_paragraph)):
                where = f"{where_paragraph}.qas[{k}]"
                item = reading.add(where, squad_item, qa, where, context)
                if item is None:
                    continue
                ids.append(item.id)
                if isinstance(context, str):
                    reading.problems.extend(answer_start_problems(qa, context, where, item.id))
            if isinstance(context, str) and context.strip() and ids:
                reading.contexts.append(Context(where_paragraph, context, tuple(ids)))
    return reading


def answer_start_problems(
    qa: Mapping[str, Any], context: str, where: str, item_id: str
) -> list[Problem]:
    """A problem for each answer whose ``answer_start`` does not point at its text."""
    problems = []
    for n, answer in enumerate(qa.get("answers") or []):
        start, text = answer.get("answer_start"), answer.get("text")
        if not isinstance(start, int) or not isinstance(text, str):
            continue
        found = context[start : start + len(text)]
        if found != text:
            problems.append(
                Problem(
                    f"{where}.answers[{n}]: answer_start {start} points at {found!r} in the "
                    f"context, not at the answer {text!r}",
                    (item_id,),
                )
            )
    return problems


def answer_spans(qa: Mapping[str, Any], context: str) -> tuple[tuple[int, int], ...]:
    """``[start, end)`` in ``context`` of each distinct answer whose ``answer_start`` points at
    its text (the others are reported by :func:`answer_start_problems`)."""
    spans: list[tuple[int, int]] = []
    for answer in qa.get("answers") or []:
        start, text = answer.get("answer_start"), answer.get("text")
        if not isinstance(start, int) or isinstance(start, bool) or not isinstance(text, str):
            continue
        span = (start, start + len(text))
        if text.strip() and start >= 0 and context[span[0] : span[1]] == text and span not in spans:
            spans.append(span)
    return tuple(spans)


def squad_item(qa: Mapping[str, Any], where: str, context: Any = None) -> EvalItem:
    """One SQuAD ``qas`` entry as an item of type ``squad``.

    As in the official v2.0 script, a question without an answer text is a no-answer question
    even when ``is_impossible`` is false. The answers' ``answer_start`` offsets in ``context``
    are kept as the gold locations.
    """
    impossible = qa.get("is_impossible", False)
    if not isinstance(impossible, bool):
        raise ValueError(f"{where}: field 'is_impossible' must be true or false")
    texts: list[str] = []
    for n, answer in enumerate(_list_of_objects(qa, "answers", where, required=False)):
        text = _text(answer, "text", f"{where}.answers[{n}]")
        if text not in texts:
            texts.append(text)
    answers = () if impossible else tuple(texts)
    spans = answer_spans(qa, context) if answers and isinstance(context, str) else ()
    return EvalItem(
        id=_id(qa, where),
        question=_text(qa, "question", where),
        answerable=bool(answers),
        answers=answers,
        gold_quotes=answers,
        # The official script's split, so the per-type table shows it too.
        type="squad HasAns" if answers else "squad NoAns",
        context=context if spans else "",
        answer_spans=spans,
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


def ragas_references(record: Mapping[str, Any], where: str) -> tuple[str, ...]:
    """The reference answers: ``reference`` (or legacy ``ground_truth``) text, or the legacy
    ``ground_truths`` list (in CSV, written as a JSON or Python list)."""
    name = next((n for n in REFERENCE_FIELDS if n in record), None)
    if name is None:
        raise ValueError(
            f"{where}: missing field 'reference' (legacy: 'ground_truth' or 'ground_truths'; "
            "use an empty value if unanswerable)"
        )
    value = record[name]
    if value is None:
        return ()
    if name == "ground_truths":
        if isinstance(value, str) and value.strip().startswith("["):
            value = _parse_list(value, where, name)
        return _strings(value if isinstance(value, list) else [value], name, where)
    if not isinstance(value, str):
        raise ValueError(f"{where}: field '{name}' must be text, got {_type_name(value)}")
    return (value.strip(),) if value.strip() else ()


def ragas_item(record: Mapping[str, Any], where: str, default_id: str) -> EvalItem:
    """One RAGAS record with current names (``user_input``, ``reference``,
    ``reference_contexts``) or legacy ones (``question``, ``ground_truth``/``ground_truths``);
    ``response``, ``retrieved_contexts``, ``answer`` and ``contexts`` (another system's output)
    are ignored. Without an ``id``, ``default_id``."""
    answers = ragas_references(record, where)
    question_field = "user_input" if "user_input" in record else "question"
    if question_field not in record:
        raise ValueError(f"{where}: missing field 'user_input' (legacy: 'question')")
    return EvalItem(
        id=_id(record, where) if record.get("id") not in (None, "") else default_id,
        question=_text(record, question_field, where),
        answerable=bool(answers),
        answers=answers,
        gold_quotes=_contexts(record.get("reference_contexts"), where),
        type=_text(record, "type", where, default="ragas"),
    )


# --- CSV ------------------------------------------------------------------------------------


def read_csv(path: Path, text: str) -> _Reading:
    """Items of a CSV with header ``question,answer`` or RAGAS names (current or legacy); header
    names are case-insensitive."""
    reader = csv.DictReader(io.StringIO(text))
    header = [(name or "").strip().lower() for name in reader.fieldnames or []]
    reader.fieldnames = header
    if "user_input" in header or any(name in header for name in REFERENCE_FIELDS):
        make_item = ragas_item
    elif "question" in header and "answer" in header:
        make_item = plain_csv_item
    else:
        raise ValueError(
            f"{path}, line 1: unknown CSV header {','.join(header)!r}; expected "
            "question,answer or user_input,reference,reference_contexts (or legacy RAGAS "
            "question,ground_truth)"
        )
    reading = _Reading()
    try:
        for row in reader:
            line = reader.line_num
            where = f"{path}, line {line}"
            if None in row:
                text = f"{where}: more fields than the header's {len(header)}"
                reading.problems.append(Problem(text, malformed=True))
                continue
            values = {k: (v or "").strip() for k, v in row.items()}
            if any(values.values()):
                reading.add(where, make_item, values, where, default_id=f"line{line}")
    except csv.Error as exc:
        raise ValueError(f"{path}, line {reader.line_num}: malformed CSV ({exc})") from exc
    return reading


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


def _parse_list(text: str, where: str, name: str = "reference_contexts") -> Any:
    """A list written as JSON, or as a Python literal (how pandas saves lists to CSV)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError) as exc:
        raise ValueError(
            f"{where}: field '{name}' must be a list of strings "
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
