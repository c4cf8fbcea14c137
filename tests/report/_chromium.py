"""Open a page in headless Chromium over the DevTools pipe (standard library only).

Records console messages, uncaught exceptions, log entries and every network request the page
makes, and takes a screenshot.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-pipe"]


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class _Pipe:
    def __init__(self, proc, write_fd, read_fd):
        self.proc, self.w, self.r = proc, write_fd, read_fd
        self.buf = b""
        self.next_id = 0
        self.events: list[dict] = []

    def send(self, method, params=None, session=None) -> int:
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.w, json.dumps(msg).encode() + b"\0")
        return self.next_id

    def _read(self, timeout):
        ready, _, _ = select.select([self.r], [], [], timeout)
        if not ready:
            return None
        chunk = os.read(self.r, 1 << 20)
        if not chunk:
            raise RuntimeError("chromium closed the DevTools pipe")
        self.buf += chunk
        return True

    def messages(self, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            while b"\0" in self.buf:
                raw, self.buf = self.buf.split(b"\0", 1)
                yield json.loads(raw)
            self._read(max(0.0, end - time.monotonic()))

    def call(self, method, params=None, session=None, timeout=30):
        i = self.send(method, params, session)
        for msg in self.messages(timeout):
            if msg.get("id") == i:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)
        raise TimeoutError(method)


def open_page(url: str, width: int = 1280, height: int = 900, timeout: float = 40,
              screenshot: Path | None = None, expressions: tuple[str, ...] = ()) -> dict:
    """Load ``url``; return console errors, exceptions and the URLs of network requests.

    ``expressions`` are evaluated in the page after it has loaded, in order; their values are
    returned under ``"values"``.
    """
    exe = find_chromium()
    if exe is None:
        raise FileNotFoundError("chromium")
    to_chrome_r, to_chrome_w = os.pipe()
    from_chrome_r, from_chrome_w = os.pipe()
    profile = tempfile.mkdtemp(prefix="edxreview-chromium-")

    def child_fds():
        # move both ends clear of 3 and 4 first, then place them (dup2 copies are inheritable)
        a, b = os.dup(to_chrome_r), os.dup(from_chrome_w)
        a, b = os.dup2(a, 100), os.dup2(b, 101)
        os.dup2(a, 3)
        os.dup2(b, 4)

    proc = subprocess.Popen(
        [exe, *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=child_fds, close_fds=False)
    os.close(to_chrome_r)
    os.close(from_chrome_w)
    pipe = _Pipe(proc, to_chrome_w, from_chrome_r)
    try:
        target = pipe.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = pipe.call("Target.attachToTarget",
                            {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Network", "Page"):
            pipe.call(f"{domain}.enable", session=session)
        pipe.call("Page.navigate", {"url": url}, session=session)
        loaded = False
        end = time.monotonic() + timeout
        while not loaded and time.monotonic() < end:
            for msg in pipe.messages(0.5):
                pipe.events.append(msg)
                if msg.get("method") == "Page.loadEventFired":
                    loaded = True
                    break
        list(map(pipe.events.append, pipe.messages(1.0)))   # late console messages
        title = pipe.call("Runtime.evaluate", {"expression": "document.title"},
                          session=session)["result"].get("value")
        values = [pipe.call("Runtime.evaluate", {"expression": e, "returnByValue": True},
                            session=session)["result"].get("value") for e in expressions]
        if screenshot is not None:
            shot = pipe.call("Page.captureScreenshot", {"format": "png",
                                                        "captureBeyondViewport": True},
                             session=session)
            Path(screenshot).write_bytes(base64.b64decode(shot["data"]))
        try:
            pipe.send("Browser.close")
        except OSError:
            pass
    finally:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        os.close(to_chrome_w)
        os.close(from_chrome_r)
        shutil.rmtree(profile, ignore_errors=True)
    ev = pipe.events
    console = [e["params"] for e in ev if e.get("method") == "Runtime.consoleAPICalled"]
    return {
        "loaded": loaded, "title": title, "values": values,
        "console_errors": [c for c in console if c.get("type") in ("error", "assert")],
        "console": console,
        "exceptions": [e["params"] for e in ev if e.get("method") == "Runtime.exceptionThrown"],
        "log_errors": [e["params"]["entry"] for e in ev if e.get("method") == "Log.entryAdded"
                       and e["params"]["entry"].get("level") == "error"],
        "dialogs": [e["params"] for e in ev if e.get("method") == "Page.javascriptDialogOpening"],
        "requests": [e["params"]["request"]["url"] for e in ev
                     if e.get("method") == "Network.requestWillBeSent"],
    }
