"""Real-browser end-to-end test of the patient pages (Chromium from Debian + selenium + axe-core).

A headless Chromium (Debian packages `chromium` and `chromium-driver`, driven by selenium from PyPI) at a
390 x 844 CSS-pixel viewport opens a link created through the JSON API and answers a whole baseline
invitation (RAND-36 + EQ-5D-5L) the way a person would: clicking the labels of the answer options, typing
into the number field, pressing the buttons. After submission the test reads what Svar stored from the SQLite
file (read-only; there is no score route yet) and compares it with RAND-36 scales and the EQ-5D-5L index
(Norway 2024) computed here, independently of Svar, from the published tables; the course seen through the
API must show the invitation as completed.

In the same run axe-core (bundled in PyPI `axe-selenium-python`, no network) checks every patient page with
the WCAG 2.0/2.1 A and AA rules and must report zero violations: the landing page in all three languages,
every step, a step re-rendered with a validation error, the review page, the thank-you page, the "already
answered" page, the "not valid" page, the accessibility statement, and the second-factor (birth date) page,
plain and with an error, under a protocol that asks for it. One step is also laid out at 320 px and must not
scroll sideways.

The urgent-help callout, the EQ VAS scale and the strict number field are checked on a 390 px phone and a
1280 px desktop, under a server with SVAR_CONTACT_TEXT set: the callout is seen on the landing page, the
sensitive RAND-36 step and the thank-you page; the VAS is answered with the keyboard only (Tab to the field,
type, Enter), "7,5" comes back as an error that names the question and shows "7,5" again, and the scale then
marks the value typed.

Navigation that keeps answers (issue 15 item 4) is walked twice, in the same Chromium and in a second one with
JavaScript switched off: Back on a half-answered step, the language switch inside a step, "Fortsett — steg 3
av 10" on the landing page, and "Endre" on the review returning to the review; every page of both walks gets
axe (zero violations). The calm 404 pages (/finnes-ikke, /a/x/y/z) are checked in the language asked, with the
patient layout, and the accessibility statement with its date, known problems, contact and way back.

The rights page (issue 15 item 8) is checked without a link in all three languages and from a landing page
with its way back; declining one questionnaire and reserving are each walked from the landing page's button
through the confirmation page to the calm page, by keyboard alone (Tab, Enter) and again with JavaScript off,
and the invitation's state is read back through the API. Under a protocol with `patientFeedback` on, the
thank-you page shows the patient's own results beside the norm once; a reload and the link show none.

One full-page PNG per page goes to e2e/screenshots/ (git-ignored), with axe-results.json (every violation and
every "needs review" item per page) next to them.

Run: python3 -m pytest e2e/test_browser.py -q -p no:cacheprovider   (SVAR_BIN unset = .build/debug/svar)
"""
from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import os
import re
import shutil
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conftest import (HOST, REPO, Server, free_port, http_get, open_ro, oslo_today, server_env, synthetic_number,
                      synthetic_numbers)

os.environ.setdefault("SE_AVOID_STATS", "true")  # selenium must not phone home (usage statistics)

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from axe_selenium_python import Axe  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WIDTH, HEIGHT = 390, 844
NARROW = 320
SHOTS = Path(__file__).resolve().parent / "screenshots"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations", "incomplete"]}
PAGE_WAIT = 20  # seconds

# ---------------------------------------------------------------------------------------------------------------
# The answers (RAND-36 item -> precoded response; EQ-5D-5L dimension -> level; VAS), chosen so that no scale is
# trivial: mixed responses within every scale, one scale (role emotional) whose mean does not terminate.
# ---------------------------------------------------------------------------------------------------------------
RAND_ANSWERS = {
    1: 3, 2: 2,                                                     # general health "good"; "somewhat better"
    3: 1, 4: 2, 5: 2, 6: 3, 7: 3, 8: 2, 9: 1, 10: 2, 11: 3, 12: 3,  # physical functioning
    13: 1, 14: 2, 15: 2, 16: 1,                                     # role physical
    17: 2, 18: 1, 19: 2,                                            # role emotional
    20: 2, 21: 3, 22: 2,                                            # social, pain
    23: 2, 24: 5, 25: 6, 26: 2, 27: 3, 28: 5, 29: 4, 30: 3, 31: 5,  # energy, emotional well-being
    32: 3,                                                          # social (time)
    33: 4, 34: 2, 35: 3, 36: 2,                                     # general health beliefs
}
EQ5D_LEVELS = {"MO": 2, "SC": 1, "UA": 3, "PD": 4, "AD": 2}
EQ5D_VAS = 65
EQ5D_LEFT_OUT_FIRST = "AD"  # left unanswered on the first try, to get the validation-error page

# RAND 36-Item Health Survey 1.0, RAND's scoring instructions (Table 1 recodes, Table 2 scales), transcribed
# here from the published tables (not from Svar's instruments/rand36/scoring.json).
RAND_RECODE = {}
for _items, _values in [
    ((1, 2, 20, 22, 34, 36), {1: 100, 2: 75, 3: 50, 4: 25, 5: 0}),
    ((3, 4, 5, 6, 7, 8, 9, 10, 11, 12), {1: 0, 2: 50, 3: 100}),
    ((13, 14, 15, 16, 17, 18, 19), {1: 0, 2: 100}),
    ((21, 23, 26, 27, 30), {1: 100, 2: 80, 3: 60, 4: 40, 5: 20, 6: 0}),
    ((24, 25, 28, 29, 31), {1: 0, 2: 20, 3: 40, 4: 60, 5: 80, 6: 100}),
    ((32, 33, 35), {1: 0, 2: 25, 3: 50, 4: 75, 5: 100}),
]:
    for _item in _items:
        RAND_RECODE[_item] = _values
assert sorted(RAND_RECODE) == list(range(1, 37))
RAND_SCALES = {
    "physicalFunctioning": (3, 4, 5, 6, 7, 8, 9, 10, 11, 12),
    "rolePhysical": (13, 14, 15, 16),
    "roleEmotional": (17, 18, 19),
    "energyFatigue": (23, 27, 29, 31),
    "emotionalWellbeing": (24, 25, 26, 28, 30),
    "socialFunctioning": (20, 32),
    "pain": (21, 22),
    "generalHealth": (1, 33, 34, 35, 36),
    "healthChange": (2,),  # item 2 on its own, in no scale
}

# EQ-5D-5L value set for Norway (Garratt et al. 2024, doi:10.1007/s11136-024-03837-3): main effects only, no
# constant, start value 1; the published coefficients (as tabulated from fragla/eq5d data-raw/VT.csv).
NO_2024 = {
    "MO": {2: "-0.03116", 3: "-0.064985", 4: "-0.158875", 5: "-0.205"},
    "SC": {2: "-0.031312", 3: "-0.065302", 4: "-0.15965", 5: "-0.206"},
    "UA": {2: "-0.027208", 3: "-0.056743", 4: "-0.138725", 5: "-0.179"},
    "PD": {2: "-0.059432", 3: "-0.123947", 4: "-0.303025", 5: "-0.391"},
    "AD": {2: "-0.071744", 3: "-0.149624", 4: "-0.3658", 5: "-0.472"},
}


def expected_rand36() -> dict[str, Fraction]:
    out = {}
    for scale, items in RAND_SCALES.items():
        values = [RAND_RECODE[i][RAND_ANSWERS[i]] for i in items]
        out[scale] = Fraction(sum(values), len(values))
    return out


def expected_eq5d_index() -> Fraction:
    index = Fraction(1)
    for dim, level in EQ5D_LEVELS.items():
        if level > 1:
            index += Fraction(Decimal(NO_2024[dim][level]))
    return index


def test_expected_values_are_what_we_think():
    """The hand arithmetic behind the expectations, so a typo in the tables above shows up on its own."""
    rand = expected_rand36()
    assert rand["physicalFunctioning"] == 60        # (0+50+50+100+100+50+0+50+100+100)/10
    assert rand["rolePhysical"] == 50               # (0+100+100+0)/4
    assert rand["roleEmotional"] == Fraction(200, 3)  # (100+0+100)/3
    assert rand["energyFatigue"] == 70              # (80+60+60+80)/4
    assert rand["emotionalWellbeing"] == 80         # (80+100+80+80+60)/5
    assert rand["socialFunctioning"] == Fraction(125, 2)  # (75+50)/2
    assert rand["pain"] == Fraction(135, 2)         # (60+75)/2
    assert rand["generalHealth"] == 65              # (50+75+75+50+75)/5
    assert rand["healthChange"] == 75
    # 1 - 0.03116 (MO2) - 0.056743 (UA3) - 0.303025 (PD4) - 0.071744 (AD2)
    assert expected_eq5d_index() == Fraction(Decimal("0.537328"))


def test_value_set_file_matches_the_published_coefficients():
    """Svar's data file must carry the same Norway 2024 coefficients this test uses."""
    data = json.loads((REPO / "instruments" / "eq5d-5l" / "valuesets" / "no-2024.json").read_text("utf-8"))
    assert data["id"] == "no-2024"
    assert Decimal(data["start"]) == 1 and data.get("terms") == []
    for dim, coefs in NO_2024.items():
        for level, value in coefs.items():
            assert Decimal(data["mainEffects"][dim][str(level)]) == Decimal(value), (dim, level)


# ---------------------------------------------------------------------------------------------------------------
# Fixtures: a server whose public URL is itself, and one Chromium for the module
# ---------------------------------------------------------------------------------------------------------------
class Site:
    def __init__(self, srv: Server, db: Path) -> None:
        self.srv = srv
        self.db = db
        self.base = srv.base

    def new_link(self, index: int, **patient) -> tuple[str, str, str]:
        """(link url, course id, invitation id) of a fresh baseline invitation for a new synthetic patient."""
        number = patient.pop("identityNumber", None) or synthetic_numbers(index + 1)[index]
        patient = self.srv.enrol(number, **patient)
        course = self.srv.start_course(patient, "4242")
        reply = self.srv.event(course, "start", oslo_today())
        baseline = [i for i in reply["invitations"] if i["milestone"] == "baseline"]
        assert len(baseline) == 1, f"expected one baseline invitation: {reply}"
        invitation = baseline[0]
        assert invitation["instruments"] == ["rand36", "eq5d-5l"], invitation
        link = self.srv.ok("POST", f"/api/v1/invitations/{invitation['id']}/link", {})
        url = link["url"]
        assert url.startswith(self.base + "/a/"), f"link {url} does not point at this server {self.base}"
        return url, course, invitation["id"]


@contextlib.contextmanager
def serving(svar_bin: str, cwd: Path, **extra_env: str):
    """A healthy `svar serve` in test mode whose SVAR_PUBLIC_URL is its own loopback address, with one unit."""
    db = cwd / "svar.sqlite"
    port = free_port()
    base = f"http://{HOST}:{port}"
    env = server_env(db, SVAR_PORT=str(port), SVAR_PUBLIC_URL=base, **extra_env)
    srv = Server(svar_bin, cwd, cwd / "serve.log", env=env)
    srv.port, srv.base = port, base  # SVAR_PORT in env wins over the port Server picked for itself
    try:
        srv.wait_until_healthy()
        srv.create_unit("4242", "E2E nettleser")
        yield Site(srv, db)
        rc = srv.stop()
        assert rc == 0, f"svar serve exited with {rc} on SIGTERM:\n{srv.logs()}"
    finally:
        srv.kill()


@pytest.fixture(scope="module")
def site(svar_bin, tmp_path_factory):
    with serving(svar_bin, tmp_path_factory.mktemp("browser-cwd")) as s:
        yield s


@pytest.fixture(scope="module")
def shots():
    SHOTS.mkdir(exist_ok=True)
    # Only this file's own screenshots (test_clinician_browser.py keeps its clinician-*.png beside them).
    for old in [p for p in SHOTS.glob("*.png") if not p.name.startswith("clinician-")] + list(SHOTS.glob("axe-results*.json")):
        old.unlink()
    return SHOTS


def chromium_options() -> Options:
    """Headless Chromium at the phone viewport, in Norwegian, with nothing running in the background."""
    opts = Options()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={WIDTH},{HEIGHT}", "--lang=nb-NO", "--no-first-run", "--no-default-browser-check",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-extensions"):
        opts.add_argument(arg)
    return opts


@pytest.fixture(scope="module")
def driver():
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            pytest.fail(f"{path} missing: install the Debian packages with "
                        f"`apt-get install -y chromium chromium-driver`", pytrace=False)
    opts = chromium_options()
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    try:
        drv.set_page_load_timeout(PAGE_WAIT)
        drv.set_script_timeout(120)
        set_viewport(drv, WIDTH, HEIGHT)
        # svar.css scrolls smoothly unless the person asks for reduced motion; headless Chromium never finishes
        # a smooth scroll (no frames are drawn), so scrolling to a control would leave it off screen. Ask for
        # reduced motion, a setting real people use.
        drv.execute_cdp_cmd("Emulation.setEmulatedMedia",
                            {"features": [{"name": "prefers-reduced-motion", "value": "reduce"}]})
        yield drv
    finally:
        drv.quit()


def set_viewport(drv, width: int, height: int) -> None:
    """Exactly width x height CSS px, device pixel ratio 1, as a phone (mobile: meta viewport honoured)."""
    drv.set_window_size(width, height)
    drv.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": True})


# ---------------------------------------------------------------------------------------------------------------
# Page helpers: axe, screenshots, clicking like a person
# ---------------------------------------------------------------------------------------------------------------
class Audit:
    """axe results of every page checked in this module, reported together."""

    def __init__(self, drv, shots_dir: Path, results_name: str = "axe-results.json") -> None:
        self.drv = drv
        self.dir = shots_dir
        self.results_name = results_name
        self.pages: dict[str, dict] = {}
        self.order: list[str] = []
        self.tags_without_rules: list[str] = []

    def page(self, name: str, *, width: int = WIDTH) -> None:
        """Check the current page: viewport, full-page screenshot, axe with the WCAG 2.x A/AA rules."""
        drv = self.drv
        WebDriverWait(drv, PAGE_WAIT).until(lambda d: d.execute_script("return document.readyState") == "complete")
        inner = drv.execute_script("return [window.innerWidth, window.innerHeight, window.devicePixelRatio,"
                                   " document.documentElement.clientWidth]")
        assert inner[0] == width and inner[3] == width and inner[2] == 1, \
            f"{name}: viewport is {inner} (innerWidth, innerHeight, devicePixelRatio, clientWidth), wanted {width} px"
        self.screenshot(name, width)
        axe = Axe(drv)
        axe.inject()
        # axe.run refuses a runOnly tag that none of its rules carries (the engine bundled in
        # axe-selenium-python 2.1.6 is axe-core 3.1.1, which has no rule tagged wcag21a). Leaving out a tag
        # that selects no rule runs exactly the same rules, so ask the engine which of the tags it knows.
        known = set(drv.execute_script(
            "var t = {}; axe.getRules().forEach(function (r) { r.tags.forEach(function (g) { t[g] = 1; }); });"
            " return Object.keys(t);"))
        tags = [t for t in AXE_TAGS if t in known]
        assert {"wcag2a", "wcag2aa"} <= set(tags), f"axe-core knows none of the WCAG 2.0 A/AA rules: {sorted(known)}"
        self.tags_without_rules = [t for t in AXE_TAGS if t not in known]
        options = {**AXE_OPTIONS, "runOnly": {"type": "tag", "values": tags}}
        results = self._run_axe(name, options)
        # Older axe-core engines cannot judge the contrast of text outside the viewport and only list it as
        # "needs review"; check that text once more with the page laid out whole (same width, taller window).
        off_screen = [n for v in results["incomplete"] if v["id"] == "color-contrast" for n in v["nodes"]
                      if any("outside the viewport" in c["message"] for c in n["any"] + n["all"] + n["none"])]
        if off_screen:
            full = drv.execute_script("return Math.ceil(document.documentElement.scrollHeight)")
            set_viewport(drv, width, max(HEIGHT, full))
            try:
                again = self._run_axe(name, {**options, "runOnly": {"type": "rule", "values": ["color-contrast"]}})
            finally:
                set_viewport(drv, width, HEIGHT)
            results["violations"] += again["violations"]
            results["incomplete"] = [v for v in results["incomplete"] if v["id"] != "color-contrast"] \
                + again["incomplete"]
        logs = []
        try:
            logs = [f"{e['level']}: {e['message']}" for e in drv.get_log("browser")]
        except WebDriverException:
            pass
        self.pages[name] = {"url": drv.current_url, "title": drv.title,
                            "axeVersion": drv.execute_script("return axe.version"), "tags": options["runOnly"]["values"],
                            "violations": results["violations"], "incomplete": results["incomplete"],
                            "console": logs}
        self.order.append(name)

    def _run_axe(self, name: str, options: dict) -> dict:
        results = self.drv.execute_async_script(
            "var done = arguments[arguments.length - 1];"
            "axe.run(document, arguments[0]).then(function (r) { done(r); },"
            " function (e) { done({error: String(e && e.stack || e)}); });", options)
        assert "error" not in results, f"{name}: axe.run failed: {results['error']}"
        return results

    def screenshot(self, name: str, width: int) -> Path:
        """A full-page PNG (the whole document height at the current width)."""
        height = self.drv.execute_script(
            "return Math.ceil(Math.max(document.documentElement.scrollHeight, document.body.scrollHeight))")
        shot = self.drv.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True, "fromSurface": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
        path = self.dir / f"{len(self.order) + 1:02d}-{name}.png"
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def write(self) -> None:
        (self.dir / self.results_name).write_text(
            json.dumps({n: self.pages[n] for n in self.order}, indent=2, ensure_ascii=False), "utf-8")

    def report(self, names: list[str] | None = None) -> str:
        """Every violation (rule, impact, help, failing nodes' target and html) of the named pages, or all."""
        lines = []
        for name in (self.order if names is None else names):
            for v in self.pages[name]["violations"]:
                lines.append(f"[{name}] {self.pages[name]['url']}\n  {v['id']} ({v['impact']}): {v['help']}"
                             f"  tags={','.join(v['tags'])}\n  {v['helpUrl']}")
                for node in v["nodes"]:
                    lines.append(f"    target={node['target']}\n    html={node['html']}")
                    for kind in ("any", "all", "none"):
                        for check in node.get(kind, []):
                            lines.append(f"      {kind}: {check['message']}")
        return "\n".join(lines)

    def summary(self) -> str:
        return "\n".join(
            f"{name}: {len(self.pages[name]['violations'])} violation(s), "
            f"{len(self.pages[name]['incomplete'])} needing review "
            f"({', '.join(sorted({i['id'] for i in self.pages[name]['incomplete']})) or '-'})"
            for name in self.order)


@pytest.fixture(scope="module")
def audit(driver, shots):
    a = Audit(driver, shots)
    yield a
    a.write()
    print("\naxe-core", next(iter(a.pages.values()))["axeVersion"] if a.pages else "?",
          f"(tags {AXE_TAGS}; without any rule in this engine: {a.tags_without_rules or 'none'}) per page:\n"
          + a.summary())


def wait_for_url(drv, pattern: str, what: str) -> None:
    try:
        WebDriverWait(drv, PAGE_WAIT).until(lambda d: re.search(pattern, d.current_url))
    except Exception:
        raise AssertionError(f"expected {what} (URL matching {pattern}), still at {drv.current_url}\n"
                             f"{drv.find_element(By.TAG_NAME, 'main').text[:2000]}")


def click(drv, element) -> None:
    """Bring the element to the middle of the screen (no smooth scrolling) and click it."""
    drv.execute_script("arguments[0].scrollIntoView({block: 'center', inline: 'nearest', behavior: 'instant'});",
                       element)
    element.click()


def click_and_wait_for_new_page(drv, element) -> None:
    old = drv.find_element(By.TAG_NAME, "html")
    click(drv, element)
    WebDriverWait(drv, PAGE_WAIT).until(lambda d: _is_stale(old))
    WebDriverWait(drv, PAGE_WAIT).until(lambda d: d.execute_script("return document.readyState") == "complete")


def _is_stale(element) -> bool:
    try:
        element.tag_name
        return False
    except WebDriverException:
        return True


def choose(drv, name: str, code: int) -> None:
    """Click the label of the option with this value, as a person taps the big option block."""
    radio = drv.find_element(By.CSS_SELECTOR, f'input[type="radio"][name="{name}"][value="{code}"]')
    label = drv.find_element(By.CSS_SELECTOR, f'label[for="{radio.get_attribute("id")}"]')
    assert label.size["height"] >= 44, f"option label for {name}={code} is only {label.size['height']} px tall"
    click(drv, label)
    assert radio.is_selected(), f"clicking the label of {name}={code} did not select the radio"


START_BUTTON = "main form.start-form button[type=submit]"


def start(drv, respondent: str = "patient") -> None:
    """Answer the landing page's "who is filling in the form" and press its start (or continue) button."""
    choose(drv, "respondent", respondent)
    click_and_wait_for_new_page(drv, drv.find_element(By.CSS_SELECTOR, START_BUTTON))


def type_number(drv, name: str, value: int) -> None:
    field = drv.find_element(By.CSS_SELECTOR, f'input[type="text"][inputmode="numeric"][name="{name}"]')
    label = drv.find_element(By.CSS_SELECTOR, f'label[for="{field.get_attribute("id")}"]')
    click(drv, label)  # the label moves focus into the field
    assert drv.switch_to.active_element == field, f"clicking the label of {name} did not focus its field"
    field.clear()
    field.send_keys(str(value))
    assert field.get_attribute("value") == str(value)


def radio_names(drv) -> list[str]:
    names: list[str] = []
    for radio in drv.find_elements(By.CSS_SELECTOR, 'form input[type="radio"]'):
        if radio.get_attribute("name") not in names:
            names.append(radio.get_attribute("name"))
    return names


def number_names(drv) -> list[str]:
    return [f.get_attribute("name") for f in drv.find_elements(By.CSS_SELECTOR, 'form input[inputmode="numeric"]')]


def press_submit(drv) -> None:
    click_and_wait_for_new_page(drv, drv.find_element(By.CSS_SELECTOR, 'main form button[type="submit"]'))


def planned(name: str) -> int:
    if name in EQ5D_LEVELS:
        return EQ5D_LEVELS[name]
    if name == "VAS":
        return EQ5D_VAS
    return RAND_ANSWERS[int(name)]


def html_lang(drv) -> str:
    return drv.find_element(By.TAG_NAME, "html").get_attribute("lang")


def exact(stored: str | None) -> Fraction:
    assert stored is not None and re.fullmatch(r"-?\d+(\.\d+)?", stored), f"not a plain decimal: {stored!r}"
    return Fraction(Decimal(stored))


def terminates(value: Fraction) -> bool:
    d = value.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    return d == 1


# ---------------------------------------------------------------------------------------------------------------
# The journey
# ---------------------------------------------------------------------------------------------------------------
def test_patient_answers_baseline_in_a_browser(site, driver, audit):
    drv = driver
    first_page = len(audit.order)
    url, course, invitation = site.new_link(0)
    token_path = urlsplit(url).path  # /a/{token}
    problems: list[str] = []

    # Landing page: bokmål by default; then the language links, clicked.
    drv.get(url)
    assert html_lang(drv) == "nb", f"landing page without ?lang should be bokmål, <html lang={html_lang(drv)}>"
    audit.page("landing-nb")
    for code, expected_name in (("nn", "landing-nn"), ("en", "landing-en"), ("nb", None)):
        link = drv.find_element(By.CSS_SELECTOR, f'nav.language-nav a[hreflang="{code}"]')
        click_and_wait_for_new_page(drv, link)
        assert html_lang(drv) == code, f"after choosing {code}: <html lang={html_lang(drv)}>"
        current = drv.find_element(By.CSS_SELECTOR, 'nav.language-nav a[aria-current="true"]')
        assert current.get_attribute("hreflang") == code
        assert urlsplit(drv.current_url).path == token_path
        if expected_name:
            audit.page(expected_name)

    # Start without saying who fills in the form: the question is asked again, with the error at the top.
    click_and_wait_for_new_page(drv, drv.find_element(By.CSS_SELECTOR, START_BUTTON))
    summary = drv.find_element(By.CSS_SELECTOR, "main .error-summary")
    assert "Velg hvem som fyller ut skjemaet." in summary.text and drv.title.startswith("Feil:"), summary.text
    audit.page("landing-respondent-error")
    # Then who answers (the patient, with help), and every step.
    start(drv, "patientWithHelp")
    wait_for_url(drv, re.escape(token_path) + r"/s/1(\?|$)", "step 1")
    answered: set[str] = set()
    step = 1
    saw_error_page = False
    while True:
        m = re.search(re.escape(token_path) + r"/s/(\d+)", drv.current_url)
        if not m:
            break
        assert int(m.group(1)) == step, f"expected step {step}, at {drv.current_url}"
        assert html_lang(drv) == "nb"
        progress = drv.find_element(By.CSS_SELECTOR, ".progress-text").text
        assert re.search(rf"\b{step}\b", progress), f"progress text {progress!r} on step {step}"
        if step > 1:
            assert drv.find_elements(By.CSS_SELECTOR, 'main form .actions button[name="navigate"][value="back"]'), \
                f"no Back button in the form of step {step}"
        audit.page(f"step-{step:02d}")

        radios, numbers = radio_names(drv), number_names(drv)
        assert radios or numbers, f"step {step} has no questions"
        if EQ5D_LEFT_OUT_FIRST in radios and not saw_error_page:
            # First try: everything but one required question, then Next -> the same step with an error.
            for name in radios:
                if name != EQ5D_LEFT_OUT_FIRST:
                    choose(drv, name, planned(name))
            press_submit(drv)
            saw_error_page = True
            assert re.search(re.escape(token_path) + rf"/s/{step}(\?|$)", drv.current_url), \
                f"a missing required answer should keep the patient on step {step}, got {drv.current_url}"
            summary = drv.find_elements(By.CSS_SELECTOR, ".error-summary")
            assert summary, "no error summary after leaving a required question unanswered"
            links = summary[0].find_elements(By.CSS_SELECTOR, "a")
            assert [a.get_attribute("href").split("#")[-1] for a in links] == [f"q-{EQ5D_LEFT_OUT_FIRST}"], \
                f"error summary links: {[a.get_attribute('href') for a in links]}"
            fieldset = drv.find_element(By.ID, f"q-{EQ5D_LEFT_OUT_FIRST}")
            described = (fieldset.get_attribute("aria-describedby") or "").split()
            error_ids = [e.get_attribute("id") for e in fieldset.find_elements(By.CSS_SELECTOR, ".error-message")]
            assert error_ids and error_ids[0] in described, \
                f"the error message {error_ids} is not referenced by aria-describedby={described}"
            prefix = fieldset.find_element(By.CSS_SELECTOR, ".error-prefix").text.strip()
            assert prefix and drv.title.startswith(prefix), f"title {drv.title!r} does not start with {prefix!r}"
            audit.page(f"step-{step:02d}-error")
            lost = [n for n in radios if n != EQ5D_LEFT_OUT_FIRST and not drv.find_element(
                By.CSS_SELECTOR, f'input[name="{n}"][value="{planned(n)}"]').is_selected()]
            if lost:
                problems.append(f"step {step}: answers given before the validation error were lost: {lost}")
            # Now follow the error-summary link like a person and answer the missing question.
            click(drv, links[0])
            radios = radio_names(drv)
        for name in radios:
            choose(drv, name, planned(name))
        for name in numbers:
            type_number(drv, name, planned(name))
        answered.update(radios + numbers)
        press_submit(drv)
        step += 1

    assert saw_error_page, "never reached the EQ-5D dimension step"
    expected_names = {str(i) for i in RAND_ANSWERS} | set(EQ5D_LEVELS) | {"VAS"}
    assert answered == expected_names, f"questions seen {sorted(answered)} != expected {sorted(expected_names)}"

    # Review: every answer listed, none missing, then send.
    wait_for_url(drv, re.escape(token_path) + r"/review(\?|$)", "the review page")
    answers_listed = drv.find_elements(By.CSS_SELECTOR, ".answers .answer")
    assert len(answers_listed) == len(expected_names), f"review lists {len(answers_listed)} answers"
    assert not drv.find_elements(By.CSS_SELECTOR, ".not-answered"), "review says something is not answered"
    assert str(EQ5D_VAS) in drv.find_element(By.TAG_NAME, "main").text
    audit.page("review")
    press_submit(drv)

    # Thank-you page.
    wait_for_url(drv, re.escape(token_path) + r"/done(\?|$)", "the thank-you page")
    assert not drv.find_elements(By.CSS_SELECTOR, "main form"), "thank-you page has a form"
    audit.page("thanks")

    # The link again: calm "already answered", no answers shown, no form.
    drv.get(url)
    assert not drv.find_elements(By.CSS_SELECTOR, "main form"), "already-answered page has a form"
    main_text = drv.find_element(By.TAG_NAME, "main").text
    assert main_text.strip() and "Utmerket" not in main_text
    audit.page("already-answered")
    status, _, _ = http_get(url)
    assert status == 200, f"already-answered link answered HTTP {status}"

    # What Svar stored (read-only), against the expectations computed above.
    problems += check_stored(site.db, invitation)
    course_json = site.srv.course(course)
    states = {i["id"]: i["state"] for i in course_json["invitations"]}
    if states.get(invitation) != "completed":
        problems.append(f"invitation {invitation} state via GET /api/v1/courses/{course}: {states.get(invitation)}")

    report = audit.report(audit.order[first_page:])
    assert not problems and not report, \
        "\n".join(problems) + ("\n\naxe-core violations (WCAG 2.x A/AA):\n" + report if report else "")


def check_stored(db: Path, invitation: str) -> list[str]:
    problems: list[str] = []
    conn = open_ro(db)
    try:
        responses = {r["instrument"]: r for r in conn.execute(
            "SELECT id, instrument, answers, respondent, language FROM responses WHERE invitation_id = ?",
            (invitation,))}
        assert set(responses) == {"rand36", "eq5d-5l"}, f"stored responses: {sorted(responses)}"
        scores = {}
        for instrument, row in responses.items():
            scores[instrument] = {s["key"]: s for s in conn.execute(
                "SELECT key, number, flag, items_answered, items_in_scale, algorithm, value_set FROM scores "
                "WHERE response_id = ?", (row["id"],))}
    finally:
        conn.close()

    rand_answers = json.loads(responses["rand36"]["answers"])
    if rand_answers != {str(k): v for k, v in RAND_ANSWERS.items()}:
        problems.append(f"stored RAND-36 answers {rand_answers} != given {RAND_ANSWERS}")
    eq_answers = json.loads(responses["eq5d-5l"]["answers"])
    if eq_answers != {**EQ5D_LEVELS, "VAS": EQ5D_VAS}:
        problems.append(f"stored EQ-5D-5L answers {eq_answers} != given {EQ5D_LEVELS} VAS {EQ5D_VAS}")
    for row in responses.values():
        # The walk said on the landing page that the patient answers with help.
        if row["respondent"] != "patientWithHelp" or row["language"] != "nb":
            problems.append(f"{row['instrument']}: respondent={row['respondent']} language={row['language']}")

    def compare(instrument: str, key: str, want: Fraction, n_items: int | None = None, value_set=None) -> None:
        got = scores[instrument].get(key)
        if got is None:
            problems.append(f"{instrument}: no stored score {key!r} (stored keys {sorted(scores[instrument])})")
            return
        try:
            value = exact(got["number"])
        except AssertionError as err:
            problems.append(f"{instrument} {key}: {err}")
            return
        if terminates(want):
            ok = value == want
        else:  # e.g. 200/3: the stored decimal must agree to far more digits than any report shows
            ok = abs(value - want) < Fraction(1, 10 ** 9)
        if not ok:
            problems.append(f"{instrument} {key}: stored {got['number']}, expected {float(want)!r} ({want})")
        if got["flag"] not in (None, 0):
            problems.append(f"{instrument} {key}: flag {got['flag']}")
        if n_items is not None and (got["items_answered"], got["items_in_scale"]) != (n_items, n_items):
            problems.append(f"{instrument} {key}: items answered/in scale "
                            f"{got['items_answered']}/{got['items_in_scale']}, expected {n_items}/{n_items}")
        if not got["algorithm"].startswith(instrument.split("-")[0]):
            problems.append(f"{instrument} {key}: algorithm {got['algorithm']}")
        if value_set is not None and got["value_set"] != value_set:
            problems.append(f"{instrument} {key}: value set {got['value_set']}, expected {value_set}")

    for scale, want in expected_rand36().items():
        compare("rand36", scale, want, n_items=len(RAND_SCALES[scale]))
    compare("eq5d-5l", "index", expected_eq5d_index(), value_set="no-2024")
    compare("eq5d-5l", "vas", Fraction(EQ5D_VAS))
    for dim, level in EQ5D_LEVELS.items():
        compare("eq5d-5l", dim, Fraction(level))
    return problems


# ---------------------------------------------------------------------------------------------------------------
# Pages outside the journey
# ---------------------------------------------------------------------------------------------------------------
def test_invalid_link_and_accessibility_statement(site, driver, audit):
    drv = driver
    url, _, _ = site.new_link(1)
    token = urlsplit(url).path.rsplit("/", 1)[-1]
    # A link with its signature changed (same length, still base64url): "not valid", 404, no database lookup.
    tampered = token[:-4] + ("AAAA" if token[-4:] != "AAAA" else "BBBB")
    bad = f"{site.base}/a/{tampered}"
    status, _, _ = http_get(bad)
    assert status == 404, f"tampered link answered HTTP {status}"
    drv.get(bad)
    assert not drv.find_elements(By.CSS_SELECTOR, "main form")
    assert drv.find_element(By.CSS_SELECTOR, "main h1").text.strip()
    audit.page("not-valid")

    # The accessibility statement, reached from the footer link as a person would, in each language.
    footer_link = drv.find_element(By.CSS_SELECTOR, "footer.site-footer a")
    click_and_wait_for_new_page(drv, footer_link)
    assert urlsplit(drv.current_url).path == "/tilgjengelighet", drv.current_url
    audit.page("accessibility-nb")
    for code in ("nn", "en"):
        click_and_wait_for_new_page(drv, drv.find_element(By.CSS_SELECTOR, f'nav.language-nav a[hreflang="{code}"]'))
        assert html_lang(drv) == code
        audit.page(f"accessibility-{code}")
    status, _, _ = http_get(site.base + "/tilgjengelighet")
    assert status == 200

    report = audit.report(["not-valid", "accessibility-nb", "accessibility-nn", "accessibility-en"])
    assert not report, "axe-core violations (WCAG 2.x A/AA):\n" + report


def test_step_at_320px_does_not_scroll_sideways(site, driver, audit):
    drv = driver
    url, _, _ = site.new_link(2)
    try:
        set_viewport(drv, NARROW, HEIGHT)
        worst = {}
        for step in (1, 2, 6):  # the longest answer labels are on these RAND-36 steps
            drv.get(f"{url}/s/{step}?lang=nb")
            wait_for_url(drv, rf"/s/{step}(\?|$)", f"step {step}")
            widths = drv.execute_script(
                "return [document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth]")
            worst[step] = widths
            if step == 2:
                audit.page("step-02-320px", width=NARROW)
        too_wide = {s: w for s, w in worst.items() if max(w[0], w[1]) > NARROW or w[2] != NARROW}
        assert not too_wide, f"at {NARROW} px these steps scroll sideways [scrollWidth html, body, innerWidth]: {too_wide}"
    finally:
        set_viewport(drv, WIDTH, HEIGHT)
    report = audit.report(["step-02-320px"])
    assert not report, "axe-core violations (WCAG 2.x A/AA):\n" + report


# ---------------------------------------------------------------------------------------------------------------
# The second factor (a protocol may ask for the birth date before the questionnaire)
# ---------------------------------------------------------------------------------------------------------------
def instruments_with_protocol(tmp_path_factory, name: str, setting: str, value, bundled) -> Path:
    """A copy of the bundled instruments whose protocol has `setting` = `value` (the bundled value checked first)."""
    instruments = tmp_path_factory.mktemp(f"browser-{name}-instruments") / "instruments"
    shutil.copytree((REPO / "instruments").resolve(), instruments)
    protocol_path = instruments / "protocols" / "kvarus.json"
    protocol = json.loads(protocol_path.read_text("utf-8"))
    assert bundled(protocol.get(setting)), f"the bundled protocol's {setting} is {protocol.get(setting)!r}"
    protocol[setting] = value
    protocol_path.write_text(json.dumps(protocol, indent=2, ensure_ascii=False), "utf-8")
    return instruments


@pytest.fixture(scope="module")
def factor_site(svar_bin, tmp_path_factory):
    """A server whose protocol asks for the birth date: the bundled instruments with secondFactor=birthDate."""
    instruments = instruments_with_protocol(tmp_path_factory, "factor", "secondFactor", "birthDate", lambda v: v is not None)
    with serving(svar_bin, tmp_path_factory.mktemp("browser-factor-cwd"), SVAR_INSTRUMENTS_DIR=str(instruments)) as s:
        yield s


def test_second_factor_birth_date_pages(factor_site, driver, audit):
    drv = driver
    first_page = len(audit.order)
    birth = dt.date(1984, 3, 17)
    number = next(n for n in (synthetic_number(birth, i) for i in range(200, 300)) if n)
    url, _, _ = factor_site.new_link(0, identityNumber=number, birthDate=birth.isoformat())
    drv.get(url)
    field = drv.find_element(By.CSS_SELECTOR, 'main form input[name="birthDate"]')
    assert drv.find_element(By.CSS_SELECTOR, f'label[for="{field.get_attribute("id")}"]').text.strip()
    audit.page("second-factor")

    # A wrong date: the same question again with the error next to it and in a summary.
    type_text(drv, "birthDate", "01.01.1950")
    press_submit(drv)
    summary = drv.find_elements(By.CSS_SELECTOR, ".error-summary a")
    assert summary and summary[0].get_attribute("href").endswith("#" + field_id(drv, "birthDate")), \
        "no error summary linking to the birth-date field after a wrong date"
    field = drv.find_element(By.CSS_SELECTOR, 'main form input[name="birthDate"]')
    assert field.get_attribute("aria-invalid") == "true"
    audit.page("second-factor-error")

    # The right date (typed the Norwegian way) opens the landing page.
    type_text(drv, "birthDate", birth.strftime("%d.%m.%Y"))
    press_submit(drv)
    assert not drv.find_elements(By.CSS_SELECTOR, 'main form input[name="birthDate"]'), \
        f"still asked for the birth date after typing the right one: {drv.current_url}"
    assert drv.find_elements(By.CSS_SELECTOR, START_BUTTON), "no start button after the second factor"

    report = audit.report(audit.order[first_page:])
    assert not report, "axe-core violations (WCAG 2.x A/AA):\n" + report


def field_id(drv, name: str) -> str:
    return drv.find_element(By.CSS_SELECTOR, f'main form input[name="{name}"]').get_attribute("id")


def type_text(drv, name: str, text: str) -> None:
    field = drv.find_element(By.CSS_SELECTOR, f'main form input[name="{name}"]')
    click(drv, drv.find_element(By.CSS_SELECTOR, f'label[for="{field.get_attribute("id")}"]'))
    assert drv.switch_to.active_element == field, f"clicking the label of {name} did not focus its field"
    field.clear()
    field.send_keys(text)


# ---------------------------------------------------------------------------------------------------------------
# Urgent help, the EQ VAS scale and the strict number field, on a phone and a desktop
# ---------------------------------------------------------------------------------------------------------------
CONTACT_TEXT = "Har du spørsmål om behandlingen, ring poliklinikken på 22 11 33 44 (hverdager 8–15)."
DESKTOP = (1280, 900)
VAS_STEP = 10  # RAND-36 has 8 steps, EQ-5D-5L's dimensions are step 9
SENSITIVE_STEP = 6  # RAND-36 "feelings": items 25 and 28 are in its safety.json


@contextlib.contextmanager
def device_viewport(drv, device: str):
    """The phone's or the desktop's viewport for one test, and the phone's again after it (the tests share one
    browser); yields the width and the prefix of the state names ("" or "desktop-")."""
    width, height = (WIDTH, HEIGHT) if device == "phone" else DESKTOP
    set_viewport(drv, width, height)
    try:
        yield width, ("" if device == "phone" else "desktop-")
    finally:
        set_viewport(drv, WIDTH, HEIGHT)


@pytest.fixture(scope="module")
def help_site(svar_bin, tmp_path_factory):
    with serving(svar_bin, tmp_path_factory.mktemp("browser-help-cwd"), SVAR_CONTACT_TEXT=CONTACT_TEXT) as s:
        yield s


def callout_seen(drv, where: str) -> None:
    """The urgent-help callout is on screen (scrolled to), with its heading, both numbers and the contact line."""
    boxes = drv.find_elements(By.CSS_SELECTOR, "main section.urgent-help")
    assert len(boxes) == 1, f"{where}: {len(boxes)} urgent-help callouts"
    box = boxes[0]
    drv.execute_script("arguments[0].scrollIntoView({block: 'start', behavior: 'instant'});", box)
    assert box.is_displayed() and box.size["height"] > 100, f"{where}: callout not shown ({box.size})"
    heading = box.find_element(By.CSS_SELECTOR, "h2")
    assert heading.text.strip() == "Trenger du hjelp nå?", f"{where}: heading {heading.text!r}"
    assert box.get_attribute("aria-labelledby") == heading.get_attribute("id")
    tels = [a.get_attribute("href") for a in box.find_elements(By.CSS_SELECTOR, "a")]
    assert tels == ["tel:113", "tel:116117"], f"{where}: links {tels}"
    assert CONTACT_TEXT in box.text, f"{where}: no contact line in {box.text!r}"
    # Not colour alone: the heading says what it is; the frame is drawn (a border, visible in forced colours too).
    assert drv.execute_script("return getComputedStyle(arguments[0]).borderTopStyle", box) == "solid"


def tab_to(drv, element, limit: int = 60) -> int:
    """Press Tab from the top of the page until `element` has the focus; the number of presses."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    drv.execute_script("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0);")
    for presses in range(1, limit + 1):
        ActionChains(drv).send_keys(Keys.TAB).perform()
        if drv.switch_to.active_element == element:
            return presses
    raise AssertionError(f"{limit} Tab presses never reached {element.get_attribute('id')}")


def keyboard_vas(drv, typed: str) -> None:
    """Tab to the VAS field, replace its text with `typed` by keys alone, press Enter (the form's submit)."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    field = drv.find_element(By.CSS_SELECTOR, 'main form input[name="VAS"]')
    tab_to(drv, field)
    old = drv.find_element(By.TAG_NAME, "html")
    keys = ActionChains(drv).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL).send_keys(Keys.BACKSPACE)
    keys.send_keys(typed).perform()
    assert field.get_attribute("value") == typed, f"typed {typed!r}, field holds {field.get_attribute('value')!r}"
    ActionChains(drv).send_keys(Keys.ENTER).perform()
    WebDriverWait(drv, PAGE_WAIT).until(lambda d: _is_stale(old))
    WebDriverWait(drv, PAGE_WAIT).until(lambda d: d.execute_script("return document.readyState") == "complete")


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_urgent_help_and_the_vas_scale_by_keyboard(help_site, driver, audit, device):
    drv = driver
    first_page = len(audit.order)
    url, _, _ = help_site.new_link(0 if device == "phone" else 1)
    with device_viewport(drv, device) as (width, _):
        drv.get(url + "?lang=nb")
        callout_seen(drv, "landing")
        audit.page(f"help-{device}-landing", width=width)

        # The sensitive step: callout; its grid's time frame in every question's legend.
        drv.get(f"{url}/s/{SENSITIVE_STEP}?lang=nb")
        callout_seen(drv, f"step {SENSITIVE_STEP}")
        legends = drv.find_elements(By.CSS_SELECTOR, "main form .question legend")
        frames = [l.find_element(By.CSS_SELECTOR, ".time-frame").text for l in legends]
        assert len(legends) == 9 and all("4 ukene" in f for f in frames), f"time frames in legends: {frames}"
        audit.page(f"help-{device}-step-{SENSITIVE_STEP:02d}", width=width)
        drv.get(f"{url}/s/1?lang=nb")
        assert not drv.find_elements(By.CSS_SELECTOR, ".urgent-help"), "the callout on a step without a sensitive item"
        intro = drv.find_elements(By.CSS_SELECTOR, "main .instrument-intro")
        assert intro and intro[0].is_displayed() and "skjemaet" in intro[0].text, "no RAND-36 introduction on step 1"

        # The VAS step: a drawn scale with both end labels, the field a plain text field.
        drv.get(f"{url}/s/{VAS_STEP}?lang=nb")
        ends = [e.text for e in drv.find_elements(By.CSS_SELECTOR, ".scale-end")]
        assert ends == ["100: Den beste helsen du kan tenke deg", "0: Den dårligste helsen du kan tenke deg"], ends
        drawing = drv.find_element(By.CSS_SELECTOR, "svg.scale-drawing")
        assert drawing.is_displayed() and drawing.size["height"] > 300, f"scale drawn {drawing.size}"
        field = drv.find_element(By.CSS_SELECTOR, 'main form input[name="VAS"]')
        assert field.get_attribute("type") == "text" and field.get_attribute("inputmode") == "numeric"
        audit.page(f"help-{device}-vas", width=width)

        # "7,5" by keyboard: the same step, the error naming the question, the text kept as typed.
        keyboard_vas(drv, "7,5")
        assert re.search(rf"/s/{VAS_STEP}(\?|$)", drv.current_url), f"7,5 was accepted: {drv.current_url}"
        summary = drv.find_element(By.CSS_SELECTOR, ".error-summary").text
        assert "Helsen din samlet sett i dag" in summary and "«7,5»" in summary, f"error summary: {summary!r}"
        field = drv.find_element(By.CSS_SELECTOR, 'main form input[name="VAS"]')
        assert field.get_attribute("value") == "7,5", f"the field shows {field.get_attribute('value')!r}"
        assert field.get_attribute("aria-invalid") == "true"
        assert not drv.find_elements(By.CSS_SELECTOR, ".scale-bar"), "a marker for 7,5"
        audit.page(f"help-{device}-vas-error", width=width)

        # 65 by keyboard: accepted (on to the review), and the scale then marks 65.
        keyboard_vas(drv, "65")
        wait_for_url(drv, r"/review(\?|$)", "the review page after a valid VAS")
        drv.get(f"{url}/s/{VAS_STEP}?lang=nb")
        chosen = drv.find_element(By.CSS_SELECTOR, ".scale-chosen").text
        assert chosen == "Du har valgt: 65", chosen
        value = drv.find_element(By.CSS_SELECTOR, "svg .scale-value")
        assert value.text == "65" or value.get_attribute("textContent") == "65"
        widths = drv.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], f"the VAS step scrolls sideways at {width} px: {widths}"
        audit.page(f"help-{device}-vas-65", width=width)

        # Answer the rest (everything but the VAS is a choice: its first option) and send: the thank-you page.
        for step in range(1, VAS_STEP):
            drv.get(f"{url}/s/{step}?lang=nb")
            for name in radio_names(drv):
                choose(drv, name, 1)
            press_submit(drv)
        drv.get(f"{url}/review?lang=nb")
        press_submit(drv)
        wait_for_url(drv, r"/done(\?|$)", "the thank-you page")
        callout_seen(drv, "thank-you page")
        audit.page(f"help-{device}-thanks", width=width)
    report = audit.report(audit.order[first_page:])
    assert not report, "axe-core violations (WCAG 2.x A/AA):\n" + report


# ---------------------------------------------------------------------------------------------------------------
# Navigation that keeps answers (issue 15 item 4), with JavaScript and without
# ---------------------------------------------------------------------------------------------------------------
def selected(drv, name: str, code: int) -> bool:
    return drv.find_element(By.CSS_SELECTOR, f'input[type="radio"][name="{name}"][value="{code}"]').is_selected()


def walk_navigation(drv, audit, url: str, prefix: str, width: int = WIDTH, keyboard: bool = False) -> None:
    """Back saves an incomplete step, the language switch keeps what was chosen, the landing page continues at
    the first unanswered step, and "Endre" on the review returns to the review — by clicking, as a person."""

    def act(element) -> None:
        """Press a button or follow a link: by mouse, or with `keyboard` by Tab and Enter alone."""
        if keyboard:
            press_enter_on(drv, element)
        else:
            click_and_wait_for_new_page(drv, element)

    path = urlsplit(url).path
    drv.get(url)
    button = drv.find_element(By.CSS_SELECTOR, START_BUTTON)
    assert button.text.strip() == "Start", f"a fresh link offers {button.text!r}"
    minutes = drv.find_element(By.CSS_SELECTOR, "dl.facts").text
    assert "omtrent 14 minutter" in minutes and "42" in minutes, f"36 + 6 questions at 20 s: {minutes!r}"
    start(drv)
    wait_for_url(drv, re.escape(path) + r"/s/1\?lang=nb$", "step 1")
    for name in radio_names(drv):
        choose(drv, name, planned(name))
    press_submit(drv)
    wait_for_url(drv, re.escape(path) + r"/s/2\?lang=nb$", "step 2")

    # Step 2 answered in part, then Back: step 1, and step 2 keeps what was chosen.
    some = radio_names(drv)[:3]
    for name in some:
        choose(drv, name, planned(name))
    act(drv.find_element(By.CSS_SELECTOR, 'main form button[name="navigate"][value="back"]'))
    wait_for_url(drv, re.escape(path) + r"/s/1\?lang=nb$", "step 1 after Back")
    assert all(selected(drv, n, planned(n)) for n in radio_names(drv)), "step 1 lost its answers"
    audit.page(f"{prefix}step-01-after-back", width=width)
    press_submit(drv)
    wait_for_url(drv, re.escape(path) + r"/s/2\?lang=nb$", "step 2 again")
    lost = [n for n in some if not selected(drv, n, planned(n))]
    assert not lost, f"Back lost the answers to {lost}"

    # The language switch: one more answer, then English — the same step, everything still chosen.
    assert drv.find_elements(By.CSS_SELECTOR, 'header nav.language-nav a[href="#language-switch"]'), \
        "the header should lead to the switch in the form"
    more = some + [radio_names(drv)[3]]
    choose(drv, more[-1], planned(more[-1]))
    act(drv.find_element(By.CSS_SELECTOR, 'main form button[name="switchLanguage"][value="en"]'))
    wait_for_url(drv, re.escape(path) + r"/s/2\?lang=en$", "step 2 in English")
    assert html_lang(drv) == "en"
    lost = [n for n in more if not selected(drv, n, planned(n))]
    assert not lost, f"the language switch lost the answers to {lost}"
    assert not drv.find_elements(By.CSS_SELECTOR, ".error-summary"), "an error for a half-answered page"
    audit.page(f"{prefix}step-02-switched-en", width=width)

    # The link again: continue at the first unanswered step, in either language.
    drv.get(url + "?lang=en")
    resume = drv.find_element(By.CSS_SELECTOR, START_BUTTON)
    assert re.fullmatch(r"Continue — step 3 of 10", resume.text.strip()), resume.text
    audit.page(f"{prefix}landing-resume-en", width=width)
    drv.get(url)
    resume = drv.find_element(By.CSS_SELECTOR, START_BUTTON)
    assert resume.text.strip() == "Fortsett — steg 3 av 10", resume.text
    assert drv.find_element(By.CSS_SELECTOR, 'input[name="respondent"][value="patient"]').is_selected(), \
        "the landing page forgot who is answering"
    audit.page(f"{prefix}landing-resume-nb", width=width)
    act(resume)
    wait_for_url(drv, re.escape(path) + r"/s/3\?lang=nb$", "step 3 from Fortsett")

    # "Endre" on the review: the step, then back to the review once saved.
    drv.get(f"{url}/review?lang=nb")
    act(drv.find_element(By.CSS_SELECTOR, "main .review-section .change a"))
    wait_for_url(drv, re.escape(path) + r"/s/1\?lang=nb&return=review$", "step 1 from Endre")
    save = drv.find_element(By.CSS_SELECTOR, "main form .actions button[type=submit]")
    assert save.text.strip() == "Lagre og gå tilbake til oversikten", save.text
    audit.page(f"{prefix}change-from-review", width=width)
    choose(drv, "1", 5)
    press_submit(drv)
    wait_for_url(drv, re.escape(path) + r"/review\?lang=nb$", "the review after Endre")
    first_answer = drv.find_element(By.CSS_SELECTOR, "main .review-section .answer").text
    assert first_answer == "Dårlig", f"the changed answer on the review: {first_answer!r}"
    audit.page(f"{prefix}review-after-change", width=width)


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_navigation_keeps_answers(site, driver, audit, device):
    """On a phone by touch (clicks); on a desktop with the keyboard alone for every button and link of the walk."""
    first_page = len(audit.order)
    url, _, _ = site.new_link(3 if device == "phone" else 11)
    with device_viewport(driver, device) as (width, _):
        walk_navigation(driver, audit, url, f"nav-{device}-", width=width, keyboard=device == "desktop")
    report = audit.report(audit.order[first_page:])
    assert not report, "axe-core violations (WCAG 2.x A/AA):\n" + report


class NoScriptAudit(Audit):
    """axe needs timers, which do not run while page scripts are off: switch them on just for the check (the
    page is already laid out without them, and Svar's pages carry no script to start), then off again."""

    def page(self, name: str, *, width: int = WIDTH) -> None:
        self.drv.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})
        try:
            super().page(name, width=width)
        finally:
            self.drv.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})


@pytest.fixture(scope="module")
def driver_without_js():
    """A second Chromium, at the same phone viewport, whose pages run no JavaScript (DevTools' switch; WebDriver's
    own calls still work, so the walk clicks and reads as in the first browser)."""
    opts = chromium_options()
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    try:
        drv.set_page_load_timeout(PAGE_WAIT)
        drv.set_script_timeout(120)
        set_viewport(drv, WIDTH, HEIGHT)
        drv.execute_cdp_cmd("Emulation.setEmulatedMedia",
                            {"features": [{"name": "prefers-reduced-motion", "value": "reduce"}]})
        drv.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
        # Proof that pages run no script here: this one would change its title.
        drv.get("data:text/html,<title>off</title><script>document.title='on'</script>")
        assert drv.title == "off", "JavaScript is still on in the no-JavaScript browser"
        yield drv
    finally:
        drv.quit()


def test_navigation_without_javascript(site, driver_without_js, shots):
    drv = driver_without_js
    audit = NoScriptAudit(drv, shots, results_name="axe-results-nojs.json")
    url, _, _ = site.new_link(4)
    try:
        walk_navigation(drv, audit, url, "nojs-")
        drv.get("data:text/html,<title>off</title><script>document.title='on'</script>")
        assert drv.title == "off", "JavaScript came back on during the walk"
    finally:
        audit.write()
    report = audit.report()
    assert not report, "axe-core violations (WCAG 2.x A/AA), JavaScript off:\n" + report


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_calm_pages_in_the_patients_language_and_the_statements_way_back(site, driver, audit, device):
    drv = driver
    first_page = len(audit.order)
    with device_viewport(drv, device) as (width, prefix):
        for uri, lang, heading, name in (("/finnes-ikke?lang=en", "en", "Page not found", "not-found-en"),
                                         ("/a/x/y/z", "nb", "Siden finnes ikke", "not-found-nb")):
            status, _, _ = http_get(site.base + uri)
            assert status == 404, f"{uri} answered HTTP {status}"
            drv.get(site.base + uri)
            assert html_lang(drv) == lang
            assert drv.find_element(By.CSS_SELECTOR, "main h1").text.strip() == heading
            assert drv.find_elements(By.CSS_SELECTOR, "header.site-header nav.language-nav a[hreflang]"), "no layout"
            audit.page(f"{prefix}{name}", width=width)

        # From a step in nynorsk, the footer link: the statement, complete, and the way back to that step.
        url, _, _ = site.new_link(5 if device == "phone" else 15)
        path = urlsplit(url).path
        drv.get(f"{url}/s/3?lang=nn")
        click_and_wait_for_new_page(drv, drv.find_element(By.CSS_SELECTOR, "footer.site-footer a[href^='/tilgjengelighet']"))
        assert urlsplit(drv.current_url).path == "/tilgjengelighet" and html_lang(drv) == "nn"
        main = drv.find_element(By.TAG_NAME, "main").text
        for text in ("6. desember 2026", "Dette veit vi ikkje verkar godt nok", "Kontakt", "Uu-tilsynet"):
            assert text in main, f"the statement lacks {text!r}"
        audit.page(f"{prefix}accessibility-nn-way-back", width=width)
        click_and_wait_for_new_page(drv, drv.find_element(By.LINK_TEXT, "Tilbake til sida du kom frå"))
        assert urlsplit(drv.current_url).path == f"{path}/s/3" and html_lang(drv) == "nn", drv.current_url

        # The clinician pages link to it too (their footer).
        drv.get(site.base + "/login")
        link = drv.find_element(By.CSS_SELECTOR, "footer.site-footer a[href^='/tilgjengelighet']")
        assert "Tilgjengelighetserklæring" in link.text
        audit.page(f"{prefix}clinician-login-footer", width=width)

    report = audit.report(audit.order[first_page:])
    assert not report, "axe-core violations (WCAG 2.x A/AA):\n" + report


# ---------------------------------------------------------------------------------------------------------------
# Who is filling in the form (issue 15 item 7), by keyboard alone, on a phone and a desktop
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_who_answers_by_keyboard(help_site, driver, audit, device):
    """The landing page's question with the keyboard alone: Tab to the button and Enter without a choice gives the
    error at once (focusable summary, the question marked), then Tab to the options, arrow keys to choose "someone
    answers for the patient", Enter: step 1, and the choice is kept when the link is opened again."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    drv = driver
    first_page = len(audit.order)
    url, _, _ = help_site.new_link(2 if device == "phone" else 3)
    with device_viewport(drv, device) as (width, _):
        drv.get(url + "?lang=nn")
        assert drv.find_element(By.CSS_SELECTOR, "main form.start-form legend").text == "Kven fyller ut skjemaet?"
        audit.page(f"who-{device}-landing-nn", width=width)

        press_enter_on(drv, drv.find_element(By.CSS_SELECTOR, START_BUTTON))
        summary = drv.find_element(By.CSS_SELECTOR, "main .error-summary")
        assert "Vel kven som fyller ut skjemaet." in summary.text and drv.title.startswith("Feil:"), summary.text
        assert drv.find_elements(By.CSS_SELECTOR, "main .start-form .question-error #respondent-error")
        audit.page(f"who-{device}-landing-error-nn", width=width)

        # Tab reaches the first option; the arrow keys move the choice within the group, as in any radio group.
        first = drv.find_element(By.ID, "respondent-patient")
        tab_to(drv, first)
        ActionChains(drv).send_keys(Keys.SPACE).send_keys(Keys.ARROW_DOWN).send_keys(Keys.ARROW_DOWN).perform()
        assert drv.find_element(By.ID, "respondent-proxy").is_selected(), "the arrow keys did not reach the third option"
        press_enter_on(drv, drv.find_element(By.CSS_SELECTOR, START_BUTTON))
        wait_for_url(drv, re.escape(urlsplit(url).path) + r"/s/1\?lang=nn$", "step 1")
        drv.get(url + "?lang=nn")
        assert drv.find_element(By.ID, "respondent-proxy").is_selected(), "the landing page forgot the choice"
    report = audit.report(audit.order[first_page:])
    assert not report, "axe-core violations (WCAG 2.x A/AA):\n" + report


# ---------------------------------------------------------------------------------------------------------------
# Issue 15 item 8: the rights page, and saying no from the landing page (decline one questionnaire, or reserve)
# ---------------------------------------------------------------------------------------------------------------
RIGHTS_HEADINGS = {"nb": "Om registeret og dine rettigheter", "nn": "Om registeret og rettane dine",
                   "en": "About the registry and your rights"}


def press_enter_on(drv, element) -> None:
    """Tab to `element` from the top of the page and press Enter: the keyboard alone, as a person without a mouse."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    tab_to(drv, element)
    old = drv.find_element(By.TAG_NAME, "html")
    ActionChains(drv).send_keys(Keys.ENTER).perform()
    WebDriverWait(drv, PAGE_WAIT).until(lambda d: _is_stale(old))
    WebDriverWait(drv, PAGE_WAIT).until(lambda d: d.execute_script("return document.readyState") == "complete")


def invitation_state(site, course: str, invitation: str) -> str:
    return {i["id"]: i["state"] for i in site.srv.course(course)["invitations"]}[invitation]


def say_no(drv, audit, site, which: str, prefix: str, *, keyboard: bool, width: int = WIDTH) -> None:
    """From a fresh landing page: the button, the confirmation page, the confirmation, the calm page."""
    offset = {"": 0, "nojs-": 2, "desktop-": 6}[prefix]
    url, course, invitation = site.new_link({"decline": 6, "reserve": 7}[which] + offset)
    path = urlsplit(url).path
    drv.get(url)
    section = drv.find_element(By.CSS_SELECTOR, "main section.refusal")
    buttons = section.find_elements(By.CSS_SELECTOR, "form button[type=submit]")
    assert [b.text.strip() for b in buttons] == ["Jeg vil ikke svare på dette skjemaet", "Ikke spør meg igjen"]
    button = buttons[0 if which == "decline" else 1]
    press_enter_on(drv, button) if keyboard else click_and_wait_for_new_page(drv, button)
    action = {"decline": "avsla", "reserve": "reserver"}[which]
    assert urlsplit(drv.current_url).path == f"{path}/{action}", drv.current_url
    heading = drv.find_element(By.CSS_SELECTOR, "main h1").text.strip()
    assert heading == {"decline": "Vil du si nei til dette skjemaet?", "reserve": "Vil du at vi aldri spør deg igjen?"}[which]
    assert invitation_state(site, course, invitation) == "opened", "the landing page's button alone changed something"
    audit.page(f"{prefix}{which}-confirm", width=width)
    confirm = drv.find_element(By.CSS_SELECTOR, "main form button[type=submit]")
    press_enter_on(drv, confirm) if keyboard else click_and_wait_for_new_page(drv, confirm)
    done = {"decline": "/avslatt", "reserve": "/reservert"}[which]
    wait_for_url(drv, re.escape(done) + r"\?lang=nb$", f"the calm page after {which}")
    assert drv.find_element(By.CSS_SELECTOR, "main h1").text.strip()
    audit.page(f"{prefix}{which}-done", width=width)
    want = {"decline": "declined", "reserve": "cancelled"}[which]
    assert invitation_state(site, course, invitation) == want
    # The link no longer opens a questionnaire.
    drv.get(url)
    assert not drv.find_elements(By.CSS_SELECTOR, "main form"), "a declined or reserved link still shows a form"


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_rights_page_and_saying_no_by_keyboard(site, driver, audit, device):
    drv = driver
    first_page = len(audit.order)
    with device_viewport(drv, device) as (width, prefix):
        for code in ("nb", "nn", "en"):
            drv.get(f"{site.base}/rettigheter?lang={code}")  # no link needed
            assert html_lang(drv) == code
            assert drv.find_element(By.CSS_SELECTOR, "main h1").text.strip() == RIGHTS_HEADINGS[code]
            main = drv.find_element(By.TAG_NAME, "main").text
            assert ("section 7" if code == "en" else "§ 7") in main and "Datatilsynet" in main
            audit.page(f"{prefix}rights-{code}", width=width)

        # From a landing page: the link to the page, and its way back.
        url, _, _ = site.new_link(10 if device == "phone" else 14)
        drv.get(url + "?lang=nn")
        click_and_wait_for_new_page(drv, drv.find_element(By.CSS_SELECTOR, "main section.refusal a[href^='/rettigheter']"))
        assert urlsplit(drv.current_url).path == "/rettigheter" and html_lang(drv) == "nn"
        click_and_wait_for_new_page(drv, drv.find_element(By.LINK_TEXT, "Tilbake til sida du kom frå"))
        assert urlsplit(drv.current_url).path == urlsplit(url).path, drv.current_url
        audit.page(f"{prefix}landing-nn-refusal", width=width)

        say_no(drv, audit, site, "decline", prefix, keyboard=True, width=width)
        say_no(drv, audit, site, "reserve", prefix, keyboard=True, width=width)
    report = audit.report(audit.order[first_page:])
    assert not report, "axe-core violations (WCAG 2.x A/AA):\n" + report


def test_saying_no_without_javascript(site, driver_without_js, shots):
    drv = driver_without_js
    audit = NoScriptAudit(drv, shots, results_name="axe-results-nojs-refusal.json")
    try:
        say_no(drv, audit, site, "decline", "nojs-", keyboard=False)
        say_no(drv, audit, site, "reserve", "nojs-", keyboard=False)
        drv.get(f"{site.base}/rettigheter?lang=en")
        audit.page("nojs-rights-en")
    finally:
        audit.write()
    report = audit.report()
    assert not report, "axe-core violations (WCAG 2.x A/AA), JavaScript off:\n" + report


# ---------------------------------------------------------------------------------------------------------------
# Issue 15 item 6: the patient's own results on the thank-you page, once, under a protocol that turns them on
# ---------------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def feedback_site(svar_bin, tmp_path_factory):
    """A server whose protocol shows patients their results (the bundled one leaves that off)."""
    instruments = instruments_with_protocol(tmp_path_factory, "feedback", "patientFeedback", True, lambda v: v is False)
    with serving(svar_bin, tmp_path_factory.mktemp("browser-feedback-cwd"), SVAR_INSTRUMENTS_DIR=str(instruments)) as s:
        yield s


def answer_everything(drv, url: str) -> None:
    """Start, every step with the planned answers, the review, submit: to the thank-you page."""
    path = urlsplit(url).path
    drv.get(url)
    # Where the landing page asks who is answering (proxy answering), the patient answers themselves.
    for radio in drv.find_elements(By.CSS_SELECTOR, 'main input[type="radio"][name="respondent"][value="patient"]'):
        click(drv, drv.find_element(By.CSS_SELECTOR, f'label[for="{radio.get_attribute("id")}"]'))
    start = drv.find_element(By.CSS_SELECTOR, "main .actions a.button, main .actions button.button")
    click_and_wait_for_new_page(drv, start)
    for _ in range(20):
        if "/review" in drv.current_url:
            break
        for name in radio_names(drv):
            choose(drv, name, planned(name))
        for name in number_names(drv):
            type_number(drv, name, planned(name))
        press_submit(drv)
    assert "/review" in drv.current_url, drv.current_url
    press_submit(drv)
    wait_for_url(drv, re.escape(path) + r"/done(\?|$)", "the thank-you page")


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_feedback_on_the_thank_you_page_once(feedback_site, driver, audit, device):
    drv = driver
    first_page = len(audit.order)
    with device_viewport(drv, device) as (width, prefix):
        url, _, _ = feedback_site.new_link(0 if device == "phone" else 1)
        answer_everything(drv, url)
        section = drv.find_element(By.CSS_SELECTOR, "main section.feedback")
        lines = [li.text.strip() for li in section.find_elements(By.CSS_SELECTOR, "li")]
        physical = round(float(expected_rand36()["physicalFunctioning"]))
        assert f"Fysisk funksjon: {physical} av 100. Folk flest i Norge: 86." in lines, lines
        assert f"Helsen din i dag, slik du selv vurderte den: {EQ5D_VAS} av 100." in lines, lines
        audit.page(f"{prefix}thanks-feedback", width=width)
        drv.refresh()
        WebDriverWait(drv, PAGE_WAIT).until(lambda d: d.execute_script("return document.readyState") == "complete")
        assert not drv.find_elements(By.CSS_SELECTOR, "main section.feedback"), "the results were shown a second time"
        drv.get(url)
        assert "av 100" not in drv.find_element(By.TAG_NAME, "main").text, "the already-answered page shows results"
    report = audit.report(audit.order[first_page:])
    assert not report, "axe-core violations (WCAG 2.x A/AA):\n" + report
