"""A real browser for what people look at: Debian's chromium, driven by Selenium through chromium-driver
(both from Debian; nothing downloaded)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.conftest import require


@contextmanager
def chromium(width: int = 1500, height: int = 950) -> Iterator[Any]:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    require(binary and driver_path, "chromium and chromium-driver (Debian packages)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", f"--window-size={width},{height}"):
        options.add_argument(flag)
    options.binary_location = str(binary)
    driver = webdriver.Chrome(service=Service(str(driver_path)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver: Any, name: str) -> None:
    """Keep a screenshot for the README when RAGCTL_SCREENSHOTS names a folder (`make screenshots`)."""
    folder = os.environ.get("RAGCTL_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(folder) / name))
