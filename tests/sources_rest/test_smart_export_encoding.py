"""An encoding decision the word heuristic cannot make alone: a Czech export in Windows-1250
reads without a single odd word as Windows-1252 too ("Pøíliš", "poèítaè"), and only
charset-normalizer's reading (chaos and language) tells the two apart."""

from __future__ import annotations

from connectors.smart_export import encoding
from connectors.smart_export.encoding import decide_encoding, read_with

CZECH = ("Číslo;Předmět;Popis;Datum\r\n"
         "1;Tiskárna netiskne;Příliš žlutý kůň úpěl ďábelské ódy;04.03.2024 09:15\r\n"
         "2;Nový počítač;Uživatel hlásí, že počítač se nespustí a obrazovka zůstává černá;05.03.2024 10:00\r\n"
         "3;Heslo;Zapomenuté heslo k poště, prosím o obnovení přístupu;06.03.2024\r\n")


def test_a_czech_cp1250_export_is_decided_by_the_detector_where_the_words_tie(tmp_path, monkeypatch):
    path = tmp_path / "tickets.csv"
    path.write_bytes(CZECH.encode("cp1250"))
    western, central = read_with(path, "cp1252"), read_with(path, "cp1250")
    assert western is not None and central is not None
    assert western.odd == central.odd == 0 and western.words == central.words  # a tie on the words
    assert western.digest != central.digest  # and two different texts

    decision = decide_encoding(path)
    assert decision.encoding == "cp1250"
    assert "Czech" in (decision.language or "") and "Příliš žlutý kůň" in path.read_bytes().decode(decision.encoding)
    assert "cp1252" in decision.how and not decision.suspect

    monkeypatch.setattr(encoding, "_detector", lambda _path, _candidates: {})
    assert decide_encoding(path).encoding == "cp1252"  # without charset-normalizer the tie goes the wrong way
