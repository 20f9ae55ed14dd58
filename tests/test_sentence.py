"""Sentence: holds to words, SPACE/DEL/pause, suggestions, undo, speech callback, transcript, threads."""

from __future__ import annotations

import json
import threading

import pytest

from fingerspell.reading.holds import Hold
from fingerspell.reading.sentence import Sentence
from fingerspell.reading.words import WordDecoder

GRUGH = [(("G", 0.6), ("T", 0.35)), (("R", 0.9), ("U", 0.05)), (("U", 0.92),), (("G", 0.55), ("T", 0.4)),
         (("H", 0.9),)]


@pytest.fixture(scope="module")
def decoder() -> WordDecoder:
    return WordDecoder()


def hold(top, t: float) -> Hold:
    top = tuple(top)
    return Hold(letter=top[0][0], confidence=top[0][1], top=top, start=t, end=t + 0.3, written_at=t + 0.3,
                kind="static")


def spell(sentence: Sentence, tops, t0: float = 0.0) -> float:
    t = t0
    for top in tops:
        sentence.add_hold(hold(top, t))
        t += 0.5
    return t


def letters(word: str, p: float = 0.9):
    return [((c, p), ("X" if c != "X" else "Y", 1 - p)) for c in word]


def test_space_hold_finishes_and_corrects_the_word(decoder):
    s = Sentence(decoder)
    t = spell(s, GRUGH)
    assert s.current == "GRUGH" and s.text == "GRUGH"
    change = s.add_hold(hold((("SPACE", 0.9),), t))
    assert change.kind == "word" and change.word.word == "TRUTH"
    assert (change.word.spelled, change.word.accepted, change.word.source) == ("GRUGH", True, "decoded")
    assert s.text == "TRUTH" and s.current == ""
    assert s.display_text() == "TRUTH\u00b7|"
    spell(s, letters("GO"), t + 1)
    assert s.display_text() == "TRUTH\u00b7GO|" and s.text == "TRUTH GO"


def test_undo_restores_the_spelled_form():
    s = Sentence(WordDecoder())  # its own decoder: an undone word is learned
    spell(s, GRUGH)
    s.add_space(3.0)
    spell(s, letters("QXJ", 0.95), 4.0)
    assert s.finish_word(6.0).word == "QXJ"
    assert s.text == "TRUTH QXJ"
    assert s.undo_correction() is True
    assert s.text == "GRUGH QXJ"
    assert s.words[0].source == "undone" and not s.words[0].accepted
    assert s.undo_correction() is False


def test_an_undone_word_is_learned_for_the_session():
    s = Sentence(WordDecoder())  # its own decoder: learning changes the lexicon
    spell(s, GRUGH)
    assert s.finish_word(3.0).word == "TRUTH"
    assert s.undo_correction() is True
    assert s.events[-1] == {"t": 3.0, "event": "undo", "word": "TRUTH", "restored": "GRUGH", "learned": True}
    spell(s, GRUGH, 4.0)
    d = s.finish_word(7.0)
    assert (d.word, d.accepted) == ("GRUGH", False)
    assert s.text == "GRUGH GRUGH"


def test_delete_removes_letters_and_reopens_the_last_word(decoder):
    s = Sentence(decoder)
    spell(s, letters("HI"))
    s.finish_word(2.0)
    spell(s, letters("YOU"), 3.0)
    assert s.add_hold(hold((("DEL", 0.9),), 5.0)).kind == "delete"
    assert s.text == "HI YO"
    s.delete()
    s.delete()
    assert s.text == "HI" and s.current == ""
    change = s.delete()  # between words: the last word is reopened without its last letter
    assert (change.kind, change.letter, s.current, s.text) == ("delete", "I", "H", "H")
    s.delete()
    assert s.delete().kind == "ignored" and s.text == ""


def test_suggestions_follow_the_word_and_can_be_picked(decoder):
    s = Sentence(decoder)
    spell(s, letters("GR"))
    sug = s.suggestions
    assert len(sug) == 3 and sug[0][0] == "GREAT"
    assert [p for _, p in sug] == sorted((p for _, p in sug), reverse=True)
    assert s.pick_suggestion(4) is None and s.pick_suggestion(0) is None
    picked = s.pick_suggestion(2)
    assert picked.word == sug[1][0] and picked.spelled == "GR" and picked.source == "suggestion"
    assert s.text == sug[1][0] and s.suggestions == []
    assert s.pick_suggestion(1) is None  # nothing is being spelled


def test_pause_finishes_the_word(decoder):
    s = Sentence(decoder)
    t = spell(s, letters("COFEE", 0.8))
    assert s.maybe_finish(t, pause_s=1.5) is None  # 0.2 s after the last hold ended
    d = s.maybe_finish(t + 1.5, pause_s=1.5)
    assert d is not None and d.word == "COFFEE"
    assert s.maybe_finish(t + 5, pause_s=1.5) is None


def test_each_finished_word_is_announced_once(decoder):
    s = Sentence(decoder)
    heard = []

    def broken(word):
        raise RuntimeError("no speaker")

    s.on_word(broken)  # a failing speaker must not stop the sentence
    s.on_word(lambda w: heard.append(w.word))
    spell(s, GRUGH)
    s.add_space()
    s.add_space()  # nothing pending: no second word
    spell(s, letters("GR"), 10.0)
    s.pick_suggestion(1)
    assert heard == ["TRUTH", "GREAT"]


def test_without_a_decoder_words_stay_as_spelled():
    s = Sentence(None)
    spell(s, GRUGH)
    assert s.suggestions == []
    assert s.finish_word(3.0).word == "GRUGH"
    assert s.undo_correction() is False


def test_transcript_is_json(decoder):
    s = Sentence(decoder)
    t = spell(s, GRUGH)
    s.add_hold(hold((("SPACE", 0.9),), t))
    spell(s, letters("HO"), t + 1)
    s.undo_correction(t + 2)
    data = json.loads(json.dumps(s.to_dict()))
    assert data["text"] == "GRUGH HO" and data["current"] == "HO"
    assert [h["letter"] for h in data["holds"]] == list("GRUGH") + ["SPACE", "H", "O"]
    assert data["holds"] == s.holds and data["events"] == s.events
    assert data["holds"][0]["top"] == [["G", 0.6], ["T", 0.35]]
    assert data["words"][0]["decoded"] == "TRUTH" and data["words"][0]["source"] == "undone"
    assert [e["event"] for e in data["events"]].count("word") == 1
    assert data["events"][-1]["event"] == "undo"


def test_threads_share_one_sentence():
    s = Sentence(None)
    errors = []

    def writer(k: int) -> None:
        try:
            for i in range(200):
                s.add_hold(hold(((chr(ord("A") + k), 0.9),), k * 1000 + i))
                _ = s.display_text(), s.text
                if i % 50 == 0:
                    json.dumps(s.to_dict())
        except Exception as exc:  # pragma: no cover - the failure the test looks for
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    assert len(s.current) == 800 and sorted(set(s.current)) == list("ABCD")
    assert len(s.to_dict()["holds"]) == 800
