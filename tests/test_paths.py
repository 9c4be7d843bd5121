"""The one content key every cache uses (``paths.content_key``)."""

from pathlib import Path

from ragalib.paths import content_key


def test_a_content_key_changes_with_each_input_and_fences_them_apart(tmp_path):
    song = tmp_path / "song.wav"
    song.write_bytes(b"RIFF one")
    key = content_key("dataset", 1, "config", ("yaman/song.wav", song))
    assert key == content_key("dataset", 1, "config", ("yaman/song.wav", Path(song)))
    assert len(key) == 40 and int(key, 16) >= 0
    assert key != content_key("dataset", 2, "config", ("yaman/song.wav", song))     # version
    assert key != content_key("index", 1, "config", ("yaman/song.wav", song))       # tag
    assert key != content_key("dataset", 1, "config", ("kafi/song.wav", song))      # a name
    assert content_key("t", 1, "ab", "c") != content_key("t", 1, "a", "bc")         # fenced
    assert content_key("t", 1, None) != content_key("t", 1, "")
    before = key
    song.write_bytes(b"RIFF two")                                                   # its bytes
    assert content_key("dataset", 1, "config", ("yaman/song.wav", song)) != before
    assert content_key("t", 1, song) != content_key("t", 1, str(song))   # a path's bytes, not its name
