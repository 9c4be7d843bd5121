"""What the browser tests share: one headless Chromium (Debian's, driven by Playwright) per
test module, closed when the module ends, even after a failure."""

import pytest

from tests.browser.lab import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
