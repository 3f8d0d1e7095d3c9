"""Which documents a question names: the words of each document's title (file name, company, year,
quarter) that tell documents apart, matched against the question's words."""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9]+")
_ORDINAL_QUARTER = {"first": "q1", "1st": "q1", "second": "q2", "2nd": "q2", "third": "q3", "3rd": "q3"}
_ORDINAL_QUARTER |= {"fourth": "q4", "4th": "q4"}
# Words that name no document: question words and other stop words, and the filler of report titles.
_FILLER = frozenset(
    """
    a about after all an and any are as at be been before between by did do does during each for from had has
    have how in into is it its no not of on or our over per than that the their then there these this those to
    under was were what when where which who whom whose why will with yes you your
    report reports quarterly quarter annual year years form filed period ending ended inc corp corporation
    company co ltd llc plc com page pdf
    """.split()  # noqa: SIM905 (a word list reads better as words)
) | frozenset(_ORDINAL_QUARTER)


def terms(text: str) -> set[str]:
    """Distinctive words: years (2023, and FY2023 as 2023), quarters (Q3, "third quarter"), and words of 3+
    letters that are not filler."""
    words = _WORD.findall(text.lower())
    found = set()
    for index, word in enumerate(words):
        if word in ("quarter", "qtr") and index and words[index - 1] in _ORDINAL_QUARTER:
            found.add(_ORDINAL_QUARTER[words[index - 1]])
        elif re.fullmatch(r"fy(19|20)\d\d", word):  # a fiscal year, as analysts write it
            found.add(word[2:])
        elif match := re.fullmatch(r"((?:19|20)\d\d)(q[1-4])", word):  # a file name's 2023Q2
            found.update(match.groups())
        elif re.fullmatch(r"q[1-4]|(19|20)\d\d", word) or (word.isalpha() and len(word) >= 3 and word not in _FILLER):
            found.add(word)
    return found


def joined(text: str) -> dict[str, set[str]]:
    """Two or three adjacent words run together, as file names write a name ("MGM Resorts" -> mgmresorts,
    "Johnson & Johnson" -> johnsonjohnson), each with the words it stands for."""
    words = [w for w in _WORD.findall(text.lower()) if w.isalpha()]
    spans = (words[i : i + n] for n in (2, 3) for i in range(len(words) - n + 1))
    return {"".join(span): set(span) for span in spans}


class TitleMatcher:
    def __init__(self, titles: dict[str, str]) -> None:
        """`titles`: file -> title. The file name counts as part of the title."""
        from ragctl.documents.title import file_part

        found = {file: terms(f"{file_part(file)} {title}") for file, title in titles.items()}
        shared = set.intersection(*found.values()) if found else set()  # words every title has
        self._files: dict[str, list[str]] = {}  # term -> the files whose titles have it
        for file, words in found.items():
            for word in words - shared:
                self._files.setdefault(word, []).append(file)

    def files(self, question: str) -> list[str]:
        """The files whose titles share the most distinctive words with the question; [] when none shares one.
        A question's words count once each, whether a title has them apart or run together."""
        asked = {term: {term} for term in terms(question)} | joined(question)
        words: dict[str, set[str]] = {}  # file -> the question's words its title has
        for term, stands_for in asked.items():
            for file in self._files.get(term, ()):
                words.setdefault(file, set()).update(stands_for)
        best = max(map(len, words.values()), default=0)
        return sorted(f for f, w in words.items() if len(w) == best) if best else []
