"""The service's page (``GET /``, notebook 10_serving) in headless Chromium, as a person uses
it: pick a file, hear it, read the raga; drop one that is not audio, read why not.

The service (``python -m ragalib serve``, on 127.0.0.1) and the browser are stopped when the
test ends, even after a failure. A screenshot of the answered page is kept in
``build/browser/serve_page.png``.
"""

import base64
from pathlib import Path

from ragalib.serving import client
from tests.browser.lab import require_chromium
from tests.test_serving import tiny_bundle, write_song

require_chromium()

ROOT = Path(__file__).resolve().parents[2]
DROP = """async ([name, data]) => {
  const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, {type: "audio/wav"}));
  return transfer;
}"""
"""A ``DataTransfer`` holding one file, as a drag from the desktop brings it."""


def test_a_picked_file_shows_its_raga_and_a_dropped_text_file_the_reason(browser, tmp_path):
    song = write_song(tmp_path / "melody.wav", 17)
    with client.start(model=tiny_bundle(tmp_path / "bundle")) as running:
        expected = running.post("detect", song).json()
        page = browser.new_page(viewport={"width": 900, "height": 900})
        problems = []
        page.on("console", lambda m: m.type == "error" and problems.append(m.text))
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(running.url)
        page.wait_for_function("document.getElementById('status').textContent"
                               ".startsWith('Ready')", timeout=20_000)

        page.set_input_files("#file", str(song))
        page.wait_for_selector("#timeline rect.segment", timeout=60_000)
        assert page.text_content("#raga") == expected["raga"]
        assert page.locator("#timeline rect.segment").count() == len(expected["segments"]) == 3
        assert f"confidence {round(100 * expected['confidence'])}%" in page.text_content("#facts")
        assert page.eval_on_selector("#player", "a => a.src.startsWith('blob:') && !a.hidden")
        assert page.eval_on_selector("#player", """a => new Promise(done => {
            if (a.duration > 0) return done(true);
            a.addEventListener('loadedmetadata', () => done(a.duration > 0), {once: true});
            a.addEventListener('error', () => done(false), {once: true}); })""")
        (ROOT / "build" / "browser").mkdir(parents=True, exist_ok=True)
        page.screenshot(path=ROOT / "build" / "browser" / "serve_page.png", full_page=True)

        words = base64.b64encode(b"these are words, not sound\n").decode()
        page.dispatch_event("#drop", "drop", {"dataTransfer": page.evaluate_handle(
            DROP, ["notes.wav", words])})
        page.wait_for_selector("#status.error", timeout=30_000)
        assert page.text_content("#status").startswith("415: notes.wav: not an audio file")
        assert page.is_hidden("#answer")
        page.close()
    assert problems == [] or all("415" in p for p in problems), problems
