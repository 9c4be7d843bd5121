"""Every chapter with a widget, run in JupyterLab in headless Chromium as a learner would.

Run All, wait for every cell, then move every slider, dropdown and checkbox several times
quickly, and check every plot that comes back (a complete PNG: opaque, its full size, with
axes on it), every audio player (it decodes) and the page's console (no error).
``make test-browser`` runs it; it needs Debian's Chromium (``apt-get install chromium``).

Only the notebook on screen is watched (``:not(.lm-mod-hidden)``) and each page opens a fresh
workspace (``?reset``, and a scratch ``JUPYTERLAB_WORKSPACES_DIR``): a workspace remembered
from an earlier page kept another notebook open in a hidden tab, whose cells never ran. Every
upload button is given a short recording, every audio player must decode to a duration, and
no progress bar may be left red. A screenshot of each widget is kept beside the server's log.
``.ci/run`` runs it after ``make test``, starting from a copy of the quick data that run built.
"""

import base64
import io
import os
import time
from pathlib import Path

import numpy as np
import pytest

from tests.browser.lab import Lab, require_chromium

NOTEBOOKS = ("09_robust_features", "07_song_detection", "08_similarity", "00_meet_the_ragas",
             "01_amplitude", "02_spectrogram", "03_mfcc")
"""The chapters that show a widget, the longest first: ``make test-browser`` hands them out
to two processes (``-n 2``), each with its own JupyterLab and Chromium, as each finishes."""
ROOT = Path(__file__).resolve().parents[2]
RUN_SECONDS = int(os.environ.get("RAGALIB_BROWSER_RUN_SECONDS", 600))
SETTLE_SECONDS = 90

require_chromium()

# Every new plot, as soon as its <img> gets it, is kept for the test to check.
RECORD_IMAGES = """() => {
  window.__plots = [];
  const keep = (img) => {
    if (!img.src || img.dataset.kept === img.src) return;
    img.dataset.kept = img.src;
    fetch(img.src).then(r => r.arrayBuffer()).then(buffer => {
      if (buffer.byteLength === 0 && img.offsetParent === null) return;  // hidden, nothing yet
      let text = ''; const bytes = new Uint8Array(buffer);
      for (let i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
      window.__plots.push(btoa(text));
    }).catch(e => window.__plots.push('unreadable: ' + e));
  };
  new MutationObserver(() => document.querySelectorAll('.jupyter-widgets img').forEach(keep))
    .observe(document.body, {subtree: true, childList: true, attributes: true,
                             attributeFilter: ['src']});
  document.querySelectorAll('.jupyter-widgets img').forEach(keep);
}"""
ALL_RUN = """() => { const p = [...document.querySelectorAll(
    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt')];
  return p.length > 0 && p.every(e => /\\[\\d+\\]/.test(e.textContent)); }"""
AUDIO_PROBLEMS = """async () => Promise.all([...document.querySelectorAll('audio')].map(
  a => new Promise(done => {
    const src = a.currentSrc || a.src || (a.querySelector('source') || {}).src || '';
    if (!src) return done('no source');
    const check = () => done(a.duration > 0 ? '' : 'no duration');
    a.addEventListener('loadedmetadata', check, {once: true});
    a.addEventListener('error', () => done('does not decode'), {once: true});
    setTimeout(() => done('no metadata in 20 s'), 20000);
    a.load();
  })))"""
"""Why each audio player on the page cannot play ('' where it can): it has a source, and the
browser decodes its header to a duration."""
PROMPTS = """() => [...document.querySelectorAll(
    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt')].map(
    e => e.textContent).join('|')"""
STALL_SECONDS = 45
IDLE = """() => [...document.querySelectorAll('span')].some(
  s => s.textContent.trim() === 'Kernel status: Idle')"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    server = Lab([ROOT / "notebooks" / f"{name}.ipynb" for name in NOTEBOOKS],
                 tmp_path_factory.mktemp("lab"), warm=ROOT / "data" / "quick")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    """A 12-second Yaman, plucked, for the chapters that ask for an upload."""
    from ragalib import audio, synth

    path = tmp_path_factory.mktemp("upload") / "yaman plucked.wav"
    audio.save(path, synth.improvise("yaman", 12.0, seed=3, voice="plucked"), sr=synth.SR)
    return path


def complete(png):
    """Why a PNG is not a complete plot, or None: it decodes, is opaque, and has between
    0.2% and 90% dark pixels (a frame, ticks and data, not a blank)."""
    from PIL import Image

    try:
        picture = Image.open(io.BytesIO(png))
        pixels = np.asarray(picture.convert("RGBA"))
    except Exception as exc:     # noqa: BLE001 - any decoding failure is the finding
        return f"does not decode ({exc})"
    if picture.size[0] < 500:
        return f"only {picture.size[0]} px wide"
    if pixels[..., 3].min() < 255:
        return f"{np.mean(pixels[..., 3] < 255):.0%} transparent"
    dark = np.mean(pixels[..., :3].mean(axis=-1) < 100)
    if not 0.002 < dark < 0.9:
        return f"{dark:.1%} dark pixels: blank or filled"
    return None


def run_all(page, attempts=4):
    """Run > Run All Cells, again if no cell has started 20 s later (a kernel still
    connecting when the page says idle drops the request)."""
    started = """() => [...document.querySelectorAll(
      '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt')].some(
      e => /\\[(\\*|\\d+)\\]/.test(e.textContent))"""
    for _ in range(attempts):
        choose_the_kernel(page)
        choose_the_kernel(page)      # it can come up just after the first look (run 7 of 20)
        dialogs = page.locator(".jp-Dialog").all_inner_texts()
        assert not dialogs, f"a dialog is open: {dialogs}"
        page.click("div.lm-MenuBar-itemLabel:text-is('Run')")
        page.click("text=Run All Cells")
        try:
            page.wait_for_function(started, timeout=20_000)
            return
        except Exception:            # noqa: BLE001 - playwright's TimeoutError: try again
            page.keyboard.press("Escape")
    raise AssertionError("Run All Cells started no cell")


def wait_for_every_cell(page, name, lab):
    """Wait until every code cell has run. If the kernel sits idle with cells still unrun
    for :data:`STALL_SECONDS`, Run All again (twice at most), as a learner would: on a fresh
    server JupyterLab sometimes starts two kernels for the first notebook and shuts one down,
    and what Run All sent to that one is lost (``lab.log``: ``'NoneType' object has no
    attribute 'kernel_ws_protocol'``). Each retry is printed."""
    deadline, retries = time.monotonic() + RUN_SECONDS, 0
    last, since = None, time.monotonic()
    while not page.evaluate(ALL_RUN):
        now = time.monotonic()
        if now > deadline:
            page.screenshot(path=str(lab.root / f"{name}-stuck.png"))
            raise AssertionError(f"{name}: not every cell ran in {RUN_SECONDS} s")
        prompts = page.evaluate(PROMPTS)
        if prompts != last:
            last, since = prompts, now
        elif now - since > STALL_SECONDS and page.evaluate(IDLE) and retries < 2:
            retries += 1
            print(f"{name}: the kernel is idle with cells unrun for {STALL_SECONDS} s: "
                  f"Run All again ({retries} of 2)")
            run_all(page)
            since = time.monotonic()
        time.sleep(1)


def choose_the_kernel(page):
    """Answer JupyterLab's "Select Kernel" as a learner would (Python 3, Select): on a slow
    first start it asked, once in three runs. (``autoStartDefaultKernel`` was worse: it
    started two kernels, shut one down, and Run All went to the dead one.)"""
    dialog = page.locator(".jp-Dialog:has-text('Select Kernel')")
    try:                          # it may be on its way: JupyterLab asks once the page is idle
        dialog.wait_for(timeout=1_000)
    except Exception:             # noqa: BLE001 - playwright's TimeoutError: no question asked
        return
    if dialog.count():
        dialog.locator("select").select_option(label="Python 3 (ipykernel)")
        dialog.locator("button:has-text('Select')").click()
        page.wait_for_function(IDLE, timeout=120_000)


def move_every_control(page, recording):
    """Move each slider, dropdown and checkbox of the page's widgets three times, quickly,
    and give every upload button ``recording``."""
    moved = 0
    for upload in page.locator(".jupyter-widgets.widget-upload").all():
        with page.expect_file_chooser() as chooser:     # its <input> is not in the page
            upload.click()
        chooser.value.set_files(str(recording))
        moved += 1
    for handle in page.locator(".jupyter-widgets .noUi-handle").all():
        handle.focus()
        for key in ("ArrowRight", "ArrowRight", "ArrowLeft"):
            handle.press(key)
        moved += 1
    for select in page.locator(".jupyter-widgets select").all():
        options = select.locator("option").all_inner_texts()
        for label in (options[1:3] + options[:1]) if len(options) > 1 else []:
            select.select_option(label=label)
        moved += 1
    for box in page.locator(".jupyter-widgets input[type=checkbox]").all():
        box.click()
        box.click()
        moved += 1
    return moved


def settle(page):
    """Wait until no new plot has arrived for three seconds and the kernel is idle."""
    deadline, count, since = time.monotonic() + SETTLE_SECONDS, -1, time.monotonic()
    while time.monotonic() < deadline:
        now = page.evaluate("() => window.__plots.length")
        if now != count:
            count, since = now, time.monotonic()
        elif time.monotonic() - since > 3 and page.evaluate(IDLE):
            return
        time.sleep(0.5)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_a_chapter_runs_and_its_widgets_redraw_completely(lab, browser, recording, name):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors = []
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(f"{lab.url}/lab/tree/{name}.ipynb?reset")   # a fresh workspace: one tab
        page.wait_for_selector(".jp-Notebook", timeout=120_000)
        page.wait_for_function(f"() => ({IDLE})() || !!document.querySelector('.jp-Dialog')",
                               timeout=120_000)
        choose_the_kernel(page)
        page.evaluate(RECORD_IMAGES)
        run_all(page)
        wait_for_every_cell(page, name, lab)
        settle(page)
        assert page.locator(".jp-OutputArea-output[data-mime-type="
                            "'application/vnd.jupyter.stderr'] .jp-RenderedText:has-text("
                            "'Traceback')").count() == 0, "a cell failed"
        assert page.locator(".progress-bar-danger").count() == 0, \
            "a progress bar was left red (closed short of its total)"
        first = page.evaluate("() => window.__plots.length")
        moved = move_every_control(page, recording)
        settle(page)
        plots = page.evaluate("() => window.__plots")
        audio = page.evaluate(AUDIO_PROBLEMS)
        for number, widget in enumerate(page.locator(
                ".jp-OutputArea-output:has(.jupyter-widgets)").all()):
            widget.screenshot(path=str(lab.root / f"{name}-widget{number}.png"))
    finally:
        page.close()
    print(f"{name}: {moved} controls moved; {len(plots)} plots, {first} after Run All; "
          f"{len(audio)} audio players; screenshots in {lab.root}")
    broken = [reason for reason in (complete(base64.b64decode(p)) if not p.startswith(
        "unreadable") else p for p in plots) if reason]
    assert not broken, f"{name}: {len(broken)} of {len(plots)} plots broken: {broken[:3]}"
    if moved and first:       # a chapter whose widgets draw: the moves drew again
        assert len(plots) > first, f"{name}: {moved} controls moved, no plot came back"
    assert not any(audio), f"{name}: audio players that do not play: {audio}"
    assert not errors, f"{name}: console errors: {errors[:3]}"
