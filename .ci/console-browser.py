#!/usr/bin/env python3
"""Drives a real headless Chromium against a running `broadcast console` over the Chrome DevTools
protocol (through --remote-debugging-pipe, so nothing but the standard library is needed).

Signs in with the token the way a person does (types it into the form and clicks the button),
checks that the campaign page shows the numbers the JSON API gives, clicks Pause with a real mouse
event, waits for the page to show the campaign paused, checks the API agrees, and saves a
screenshot. Prints one JSON line with what it saw; exits non-zero on the first check that fails.

Environment: CONSOLE_URL, CONSOLE_TOKEN (never passed on the command line), CAMPAIGN_ID,
SCREENSHOT (PNG path), CHROMIUM (optional, default: chromium on PATH).
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

URL = os.environ["CONSOLE_URL"].rstrip("/")
TOKEN = os.environ["CONSOLE_TOKEN"]
CAMPAIGN = os.environ["CAMPAIGN_ID"]
SCREENSHOT = os.environ.get("SCREENSHOT", ".build/console-screenshot.png")
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
STATUSES = ["total", "queued", "processing", "sent", "retrying", "failed", "skipped", "expired", "dead_lettered"]


class Failure(Exception):
    pass


def api(path):
    request = urllib.request.Request(URL + path, headers={"Authorization": "Bearer " + TOKEN})
    with urllib.request.urlopen(request, timeout=20) as response:
        return json.loads(response.read())


def api_counts():
    counts = api("/api/v1/campaigns/" + CAMPAIGN)["summary"]["counts"]
    return {key: counts.get(key, 0) for key in STATUSES if key in counts}


class Browser:
    def __init__(self):
        if not CHROMIUM:
            raise Failure("chromium is not installed (scripts/setup installs it)")
        self.profile = tempfile.mkdtemp(prefix="console-browser-")
        to_chrome_r, self.to_chrome_w = os.pipe()
        self.from_chrome_r, from_chrome_w = os.pipe()

        def wire_pipes():
            # The protocol pipe is fd 3 (chrome reads) and fd 4 (chrome writes).
            a, b = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.process = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
             "--disable-extensions", "--remote-debugging-pipe", "--user-data-dir=" + self.profile,
             "--window-size=1280,1100", "about:blank"],
            pass_fds=(3, 4), preexec_fn=wire_pipes, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buffer = b""
        self.next_id = 0
        self.session = None
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable")
        self.call("Runtime.enable")
        self.call("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 1100, "deviceScaleFactor": 1, "mobile": False})

    def call(self, method, params=None, timeout=30):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if self.session and not method.startswith("Target."):
            message["sessionId"] = self.session
        os.write(self.to_chrome_w, json.dumps(message).encode() + b"\0")
        deadline = time.time() + timeout
        while time.time() < deadline:
            while b"\0" in self.buffer:
                raw, self.buffer = self.buffer.split(b"\0", 1)
                reply = json.loads(raw)
                if reply.get("id") == self.next_id:
                    if "error" in reply:
                        raise Failure(f"{method}: {reply['error']}")
                    return reply.get("result", {})
            chunk = os.read(self.from_chrome_r, 1 << 16)
            if not chunk:
                raise Failure(f"chromium closed the protocol pipe during {method}")
            self.buffer += chunk
        raise Failure(f"{method}: no answer in {timeout} s")

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise Failure(f"page script failed: {result['exceptionDetails'].get('text')}: {expression[:80]}")
        return result["result"].get("value")

    def wait_for(self, expression, what, timeout=30):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            try:
                last = self.evaluate(expression)
            except Failure as failure:  # the page may still be loading
                last = str(failure)
            else:
                if last:
                    return last
            time.sleep(0.2)
        raise Failure(f"timed out after {timeout} s waiting for {what} (last: {last!r})")

    def click(self, selector):
        box = self.evaluate(
            "(() => { const e = document.querySelector(%s); if (!e) return null; e.scrollIntoView({block: 'center'});"
            " const r = e.getBoundingClientRect(); return {x: r.x + r.width / 2, y: r.y + r.height / 2}; })()" % json.dumps(selector))
        if not box:
            raise Failure(f"nothing to click at {selector}")
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", {"type": kind, "x": box["x"], "y": box["y"], "button": "left", "clickCount": 1})

    def screenshot(self, path):
        metrics = self.call("Page.getLayoutMetrics")
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        clip = {"x": 0, "y": 0, "width": 1280, "height": min(2400, max(600, size["height"])), "scale": 1}
        data = self.call("Page.captureScreenshot", {"format": "png", "clip": clip, "captureBeyondViewport": True})["data"]
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "wb") as out:
            out.write(base64.b64decode(data))

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for fd in (self.to_chrome_w, self.from_chrome_r):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)


DOM_COUNTS = ("JSON.stringify(Object.fromEntries(Array.from(document.querySelectorAll('#scope-counts [data-count]'))"
              ".map(e => [e.dataset.count, Number(e.textContent)])))")


def main():
    seen = {}
    browser = Browser()
    try:
        browser.call("Page.navigate", {"url": f"{URL}/campaigns/{CAMPAIGN}"})
        browser.wait_for("!document.getElementById('login').hidden", "the sign-in form")
        browser.evaluate("document.getElementById('token').focus()")
        browser.call("Input.insertText", {"text": TOKEN})
        browser.click("#login-submit")
        browser.wait_for("document.querySelector('#scope-counts [data-count=\"sent\"]') !== null", "the campaign's numbers")
        seen["signedInAs"] = browser.evaluate("document.getElementById('who').textContent")
        seen["tokenInSessionStorage"] = browser.evaluate("sessionStorage.getItem('broadcast.console.token') !== null")
        seen["cookies"] = browser.evaluate("document.cookie")

        # The numbers move while the worker sends: a page read between two API reads must equal one of them.
        deadline = time.time() + 30
        while True:
            before = api_counts()
            page = {k: v for k, v in json.loads(browser.evaluate(DOM_COUNTS)).items() if k in before}
            after = api_counts()
            if page in (before, after):
                seen["pageCounts"] = page
                break
            if time.time() > deadline:
                raise Failure(f"page shows {page}, API shows {before} then {after}")
            time.sleep(0.3)
        if page.get("total", 0) == 0:
            raise Failure("the campaign page shows no messages")

        browser.click("#action-pause")
        browser.wait_for("document.querySelector('section.scope') && document.querySelector('section.scope').dataset.state === 'paused'",
                         "the page to show the campaign paused")
        control = api("/api/v1/campaigns/" + CAMPAIGN)["summary"].get("control") or {}
        if control.get("action") != "pause":
            raise Failure(f"the API does not show the campaign paused: {control}")
        seen["control"] = control
        seen["notice"] = browser.evaluate("document.getElementById('notice').textContent")
        browser.wait_for("document.querySelector('#send-chart') !== null", "the sends chart")
        seen["chartBars"] = browser.evaluate("document.querySelectorAll('#send-chart rect.chart-bar').length")
        browser.screenshot(SCREENSHOT)
        seen["screenshot"] = SCREENSHOT
        print(json.dumps({"ok": True, **seen}))
        return 0
    except (Failure, urllib.error.URLError, KeyError) as failure:
        try:
            browser.screenshot(SCREENSHOT)
        except Exception:
            pass
        print(json.dumps({"ok": False, "error": str(failure), **seen}))
        return 1
    finally:
        browser.close()


if __name__ == "__main__":
    sys.exit(main())
