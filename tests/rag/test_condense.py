from __future__ import annotations

from rag.condense import condense, names, refers_back, resolve

HISTORY = [
    {"role": "user", "content": "Who is Vanda Felbab-Brown?"},
    {"role": "assistant", "content": "A drug policy expert at the Brookings Institution."},
]


def test_pronoun_question_refers_back():
    assert refers_back("What did she say about China?")


def test_standalone_question_does_not_refer_back():
    assert not refers_back("How many people died of overdoses?")


def test_follow_up_pulls_in_last_exchange():
    query = condense("What did she say about China?", HISTORY)
    assert query.startswith("What did Vanda Felbab-Brown say about China?")
    assert "drug policy" not in query


def test_standalone_question_is_not_rewritten():
    assert condense("Where did the talks happen?", HISTORY) == "Where did the talks happen?"


def test_names_skip_question_words_and_possessives():
    assert names("Who is Qin Gang, China’s former foreign minister?") == ["Qin Gang", "China"]


def test_follow_up_query_names_the_referent_not_the_whole_answer():
    history = [
        {"role": "user", "content": "What did the House Select Committee release?"},
        {"role": "assistant", "content": "A report arguing many things at length."},
    ]
    assert condense("Who is its chairman?", history) == "Who is House Select Committee’s chairman?"


def test_possessive_pronoun_becomes_possessive_name():
    assert resolve("What is her job?", "Ann Lee") == "What is Ann Lee’s job?"


def test_object_her_becomes_the_name():
    assert resolve("What did Biden tell her?", "Ann Lee") == "What did Biden tell Ann Lee?"


def test_first_pronoun_only_is_replaced():
    assert resolve("Did he say it?", "Qin Gang") == "Did Qin Gang say it?"


def test_demonstratives_are_not_replaced():
    assert resolve("When was that interview?", "Qin Gang") == "When was that interview?"


def test_resolved_question_stands_alone():
    history = [
        {"role": "user", "content": "Who is Qin Gang?"},
        {"role": "assistant", "content": "Qin Gang is China’s former foreign minister."},
    ]
    assert condense("What did he tell Newsweek?", history) == "What did Qin Gang tell Newsweek?"


def test_question_without_a_verb_continues_the_last_question():
    history = [
        {"role": "user", "content": "How many ferries sailed in May?"},
        {"role": "assistant", "content": "Twelve [1]"},
    ]
    assert condense("And in June?", history) == "How many ferries sailed in May? And in June?"


def test_question_with_a_verb_and_no_pronoun_stands_alone():
    history = [{"role": "user", "content": "How many ferries sailed in May?"}]
    assert condense("Who runs the harbour?", history) == "Who runs the harbour?"
