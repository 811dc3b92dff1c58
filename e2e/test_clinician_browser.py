"""Real-browser end-to-end test of the clinician pages (Chromium from Debian + selenium + axe-core).

One flow, the way the people using Svar would go through it:

1. A clinician opens a page while logged out, lands on the login page, gets the password wrong and then logs in,
   using only the keyboard (Tab reaches skip link, user name, password, code and the button, in that order),
   and is sent back to the page they asked for.
2. They enrol a patient with the form (first with an invalid identity number, to see the error), with a start
   date of yesterday (Oslo): the baseline questionnaire (RAND-36 + EQ-5D-5L) opened at 09:00 yesterday, so the
   test does not depend on the time of day. A second patient without e-mail or mobile is enrolled through
   the API, so the follow-up worklist has someone to contact.
3. `svar tick` invites both, `svar deliver` writes the invitation e-mail into the file mailbox (the second one
   cannot be delivered), and the link is read from the .eml file.
4. The patient, in a second browser session at phone size, answers both questionnaires through that link
   (the same answers and clicking as e2e/test_browser.py).
5. The clinician reloads the patient page: three inline SVG charts (RAND-36 profile, EQ-5D index, EQ VAS) whose
   <title>/<desc> name the values, scores in the answers table that equal `GET /api/v1/patients/{id}/results`
   and the values computed independently in test_browser.py; records a pathway event from the events the form
   offers (first a refused one; the saved one is confirmed on the page); registers the same number again and is
   told it is known;
   visits the invitation list, marks the unreachable patient as contacted on the worklist, sees the response
   rates and the start page, and logs out. A registry contact meets a 403 page; an unknown patient and a
   patient of another unit a 404 page.
6. A third browser with JavaScript switched off logs in, reads the charts, opens the answers and enrols a patient:
   the pages need no script (and have none).

axe-core (bundled in PyPI `axe-selenium-python`, no network) checks every clinician page with the WCAG 2.0/2.1
A and AA rules and must report zero violations: login (plain and with an error), start, registrer (plain and
with a validation error), the patient page (before answers, with results at desktop width and at 390 px, with
a refused event, with the confirmation of a saved one), registrer with a number already known, invitasjoner,
oppfolging (open, the contact form, followed up), oversikt, the 404 and the 403 message pages.

Full-page screenshots go to e2e/screenshots/clinician-NN-<page>.png (git-ignored) at 1280 px (desktop) and the
patient page also at 390 px, with clinician-axe-results.json (violations and "needs review" items per page).

Run: .venv/bin/python3 -m pytest e2e/test_clinician_browser.py -q -p no:cacheprovider   (SVAR_BIN unset = .build/debug/svar)
"""
from __future__ import annotations

import base64
import contextlib
import datetime as dt
import email
import email.policy
import json
import os
import re
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import HOST, Server, Svar, free_port, oslo_today, parse_tick, server_env, synthetic_numbers

os.environ.setdefault("SE_AVOID_STATS", "true")  # selenium must not phone home (usage statistics)

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

from axe_selenium_python import Axe  # noqa: E402

# The patient side answers exactly as the patient-page test does (same answers, same clicking helpers), and the
# expected scores are the ones that test computes from the published tables, independently of Svar.
from test_browser import (AXE_TAGS, CHROMEDRIVER, CHROMIUM, EQ5D_LEVELS, EQ5D_VAS, RAND_ANSWERS,  # noqa: E402
                          choose, click, click_and_wait_for_new_page, expected_eq5d_index, expected_rand36,
                          number_names, planned, press_submit, radio_names, start, type_number, wait_for_url)

DESKTOP = (1280, 900, False)   # width, height, mobile
PHONE = (390, 844, True)
SHOTS = Path(__file__).resolve().parent / "screenshots"
PAGE_WAIT = 20  # seconds
UNIT, UNIT_NAME = "4242", "E2E poliklinikk"
OTHER_UNIT = "4343"
CLINICIAN, CLINICIAN_PASSWORD = "lege.e2e", "riktig-hest-batteri-stift"
REGISTRY, REGISTRY_PASSWORD = "register.e2e", "register-passord-lang-nok"
PATIENT_NAME, PATIENT_EMAIL = "Kari Nettleser", "kari.nettleser@example.no"
SECOND_NAME = "Per Uten Kontakt"
SCALE_NAMES = {  # bokmål names the pages use for the RAND-36 scales
    "physicalFunctioning": "Fysisk funksjon", "rolePhysical": "Rollebegrensning, fysisk",
    "roleEmotional": "Rollebegrensning, følelsesmessig", "energyFatigue": "Energi",
    "emotionalWellbeing": "Psykisk velvære", "socialFunctioning": "Sosial funksjon", "pain": "Smerte",
    "generalHealth": "Generell helse",
}


# ---------------------------------------------------------------------------------------------------------------
# The server (its public URL is itself, a file mailbox, no workers: the test runs tick and deliver) and accounts
# ---------------------------------------------------------------------------------------------------------------
class Clinic:
    def __init__(self, srv: Server, svar: Svar, env: dict[str, str], mailbox: Path) -> None:
        self.srv, self.svar, self.env, self.mailbox = srv, svar, env, mailbox
        self.base = srv.base
        self.state: dict[str, str] = {}

    def add_user(self, username: str, password: str, role: str, unit: str) -> None:
        result = self.svar.run("users", "add", "--username", username, "--password-stdin", "--role", role,
                               "--unit", unit, stdin=password + "\n", env=self.env)
        assert result.rc == 0, result


@pytest.fixture(scope="module")
def clinic(svar_bin, tmp_path_factory):
    cwd = tmp_path_factory.mktemp("clinician-browser-cwd")
    port = free_port()
    base = f"http://{HOST}:{port}"
    mailbox = cwd / "mailbox"
    env = server_env(cwd / "svar.sqlite", SVAR_PORT=str(port), SVAR_PUBLIC_URL=base, SVAR_MAILBOX_DIR=str(mailbox))
    srv = Server(svar_bin, cwd, cwd / "serve.log", env=env)
    srv.port, srv.base = port, base  # SVAR_PORT in env wins over the port Server picked for itself
    try:
        srv.wait_until_healthy()
        srv.create_unit(UNIT, UNIT_NAME)
        srv.create_unit(OTHER_UNIT, "Enhet uten tilgang")
        c = Clinic(srv, Svar(svar_bin, cwd), env, mailbox)
        c.add_user(CLINICIAN, CLINICIAN_PASSWORD, "behandler", UNIT)
        c.add_user(REGISTRY, REGISTRY_PASSWORD, "registerkontakt", UNIT)
        yield c
        rc = srv.stop()
        assert rc == 0, f"svar serve exited with {rc} on SIGTERM:\n{srv.logs()}"
    finally:
        srv.kill()


# ---------------------------------------------------------------------------------------------------------------
# Browsers
# ---------------------------------------------------------------------------------------------------------------
def new_driver(size: tuple[int, int, bool], javascript: bool = True):
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            pytest.fail(f"{path} missing: install the Debian packages with "
                        f"`apt-get install -y chromium chromium-driver`", pytrace=False)
    opts = Options()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={size[0]},{size[1]}", "--lang=nb-NO", "--no-first-run", "--no-default-browser-check",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-extensions"):
        opts.add_argument(arg)
    if not javascript:  # the content setting a person flips in the browser's site settings
        opts.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    try:
        drv.set_page_load_timeout(PAGE_WAIT)
        drv.set_script_timeout(120)
        set_viewport(drv, size)
        # Headless Chromium never finishes a smooth scroll; ask for reduced motion (as test_browser.py does).
        drv.execute_cdp_cmd("Emulation.setEmulatedMedia",
                            {"features": [{"name": "prefers-reduced-motion", "value": "reduce"}]})
    except BaseException:
        drv.quit()
        raise
    return drv


def set_viewport(drv, size: tuple[int, int, bool]) -> None:
    width, height, mobile = size
    drv.set_window_size(width, height)
    drv.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})


@pytest.fixture(scope="module")
def driver():
    drv = new_driver(DESKTOP)
    yield drv
    drv.quit()


@pytest.fixture(scope="module")
def shots():
    SHOTS.mkdir(exist_ok=True)
    for old in list(SHOTS.glob("clinician-*.png")) + list(SHOTS.glob("clinician-axe-results.json")):
        old.unlink()
    return SHOTS


# ---------------------------------------------------------------------------------------------------------------
# axe-core and screenshots
# ---------------------------------------------------------------------------------------------------------------
class Audit:
    """axe results of every clinician page checked in this module, reported together."""

    def __init__(self, shots_dir: Path) -> None:
        self.dir = shots_dir
        self.pages: dict[str, dict] = {}
        self.order: list[str] = []
        self.tags_without_rules: list[str] = []

    def page(self, drv, name: str, size: tuple[int, int, bool] = DESKTOP) -> None:
        """Check the current page: viewport, no script, full-page screenshot, axe with the WCAG 2.x A/AA rules."""
        assert name not in self.pages, f"page name {name} used twice"
        WebDriverWait(drv, PAGE_WAIT).until(lambda d: d.execute_script("return document.readyState") == "complete")
        width = size[0]
        inner = drv.execute_script("return [window.innerWidth, document.documentElement.clientWidth,"
                                   " window.devicePixelRatio]")
        # (At desktop size the page's scroll bar takes its width off clientWidth, as on a real desktop.)
        assert inner[0] == width and width - 20 <= inner[1] <= width and inner[2] == 1, \
            f"{name}: viewport is {inner} (innerWidth, clientWidth, devicePixelRatio), wanted {width} px at ratio 1"
        scripts = drv.execute_script("return document.scripts.length")
        self.screenshot(drv, name, width)
        Axe(drv).inject()
        # The engine bundled in axe-selenium-python 2.1.6 (axe-core 3.1.1) has no rule tagged wcag21a; a tag that
        # selects no rule is left out (the same rules run), as in test_browser.py.
        known = set(drv.execute_script(
            "var t = {}; axe.getRules().forEach(function (r) { r.tags.forEach(function (g) { t[g] = 1; }); });"
            " return Object.keys(t);"))
        tags = [t for t in AXE_TAGS if t in known]
        assert {"wcag2a", "wcag2aa"} <= set(tags), f"axe-core knows none of the WCAG 2.0 A/AA rules: {sorted(known)}"
        self.tags_without_rules = [t for t in AXE_TAGS if t not in known]
        options = {"runOnly": {"type": "tag", "values": tags}, "resultTypes": ["violations", "incomplete"]}
        results = run_axe(drv, name, options)
        # Text outside the viewport is only "needs review" for colour contrast in this engine: lay the page out
        # whole (same width, taller viewport) and check that rule again.
        off_screen = [n for v in results["incomplete"] if v["id"] == "color-contrast" for n in v["nodes"]
                      if any("outside the viewport" in c["message"] for c in n["any"] + n["all"] + n["none"])]
        if off_screen:
            full = drv.execute_script("return Math.ceil(document.documentElement.scrollHeight)")
            set_viewport(drv, (width, max(size[1], full), size[2]))
            try:
                again = run_axe(drv, name, {**options, "runOnly": {"type": "rule", "values": ["color-contrast"]}})
            finally:
                set_viewport(drv, size)
            results["violations"] += again["violations"]
            results["incomplete"] = [v for v in results["incomplete"] if v["id"] != "color-contrast"] \
                + again["incomplete"]
        logs = []
        with contextlib.suppress(WebDriverException):
            logs = [f"{e['level']}: {e['message']}" for e in drv.get_log("browser")]
        self.pages[name] = {"url": drv.current_url, "title": drv.title, "width": width, "scripts": scripts,
                            "axeVersion": drv.execute_script("return axe.version"), "tags": tags,
                            "violations": results["violations"], "incomplete": results["incomplete"],
                            "console": logs}
        self.order.append(name)

    def screenshot(self, drv, name: str, width: int) -> Path:
        height = drv.execute_script(
            "return Math.ceil(Math.max(document.documentElement.scrollHeight, document.body.scrollHeight))")
        shot = drv.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True, "fromSurface": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
        path = self.dir / f"clinician-{len(self.order) + 1:02d}-{name}.png"
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def write(self) -> None:
        (self.dir / "clinician-axe-results.json").write_text(
            json.dumps({n: self.pages[n] for n in self.order}, indent=2, ensure_ascii=False), "utf-8")

    def report(self, names: list[str] | None = None) -> str:
        lines = []
        for name in (self.order if names is None else names):
            page = self.pages[name]
            if page["scripts"]:
                lines.append(f"[{name}] {page['url']}: {page['scripts']} <script> element(s) on a page meant to need none")
            for v in page["violations"]:
                lines.append(f"[{name}] {page['url']}\n  {v['id']} ({v['impact']}): {v['help']}"
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


def run_axe(drv, name: str, options: dict) -> dict:
    results = drv.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "axe.run(document, arguments[0]).then(function (r) { done(r); },"
        " function (e) { done({error: String(e && e.stack || e)}); });", options)
    assert "error" not in results, f"{name}: axe.run failed: {results['error']}"
    return results


@pytest.fixture(scope="module")
def audit(shots):
    a = Audit(shots)
    yield a
    a.write()
    print("\naxe-core", next(iter(a.pages.values()))["axeVersion"] if a.pages else "?",
          f"(tags {AXE_TAGS}; without any rule in this engine: {a.tags_without_rules or 'none'}) per clinician page:\n"
          + a.summary())


# ---------------------------------------------------------------------------------------------------------------
# Page helpers
# ---------------------------------------------------------------------------------------------------------------
def path_of(drv) -> str:
    return urlsplit(drv.current_url).path


def main_text(drv) -> str:
    return drv.find_element(By.TAG_NAME, "main").text


def h1(drv) -> str:
    return drv.find_element(By.CSS_SELECTOR, "main h1").text.strip()


def describe(element) -> str:
    """What a keyboard user has focused: the field's id, the skip link, or the button's text."""
    tag = element.tag_name.lower()
    if tag == "button":
        return "button:" + element.text.strip()
    if "skip-link" in (element.get_attribute("class") or ""):
        return "skip-link"
    return element.get_attribute("id") or f"{tag}.{element.get_attribute('class')}"


def press(drv, *keys) -> None:
    ActionChains(drv).send_keys(*keys).perform()


def keyboard_login(drv, username: str, password: str) -> list[str]:
    """Log in with the keyboard only, from a freshly loaded login page: Tab through the form typing into each
    field, then Enter on the button. Returns what had focus after each Tab."""
    seen = []
    typed = {"username": username, "password": password, "code": ""}
    for _ in range(8):
        press(drv, Keys.TAB)
        focused = describe(drv.switch_to.active_element)
        seen.append(focused)
        if focused in typed:
            # Select all and delete: a value kept from the last try is replaced.
            ActionChains(drv).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL).send_keys(Keys.DELETE).perform()
            if typed[focused]:
                press(drv, typed[focused])
        if focused.startswith("button:"):
            old = drv.find_element(By.TAG_NAME, "html")
            values = {n: drv.find_element(By.ID, n).get_attribute("value") for n in typed}
            assert values == typed, f"typed {typed}, the fields hold {values}"
            press(drv, Keys.ENTER)
            try:
                WebDriverWait(drv, PAGE_WAIT).until(lambda d: is_stale(old))
            except Exception:
                raise AssertionError(f"Enter on the login button did not submit the form; at {drv.current_url}, "
                                     f"focus went {seen}") from None
            WebDriverWait(drv, PAGE_WAIT).until(lambda d: d.execute_script("return document.readyState") == "complete")
            return seen
    raise AssertionError(f"Tab never reached the login button; focus went {seen}")


def is_stale(element) -> bool:
    try:
        element.tag_name
        return False
    except WebDriverException:
        return True


def keyboard_follow(drv, label: str, limit: int = 40) -> None:
    """From a freshly loaded page (focus at its start), Tab to the link named `label` and press Enter, as a keyboard
    user does."""
    for _ in range(limit):
        press(drv, Keys.TAB)
        element = drv.switch_to.active_element
        if element.tag_name.lower() == "a" and element.text.strip() == label:
            before = drv.current_url
            press(drv, Keys.ENTER)
            WebDriverWait(drv, 10).until(lambda d: d.current_url != before)
            return
    raise AssertionError(f"Tab did not reach the link {label!r} within {limit} presses")


def nav_to(drv, label: str) -> None:
    """Follow a main-menu link as a person would, and check the menu marks it as the current page."""
    link = drv.find_element(By.XPATH, f'//nav[contains(@class, "clinician-nav")]//a[normalize-space()="{label}"]')
    click_and_wait_for_new_page(drv, link)
    current = drv.find_elements(By.CSS_SELECTOR, 'nav.clinician-nav a[aria-current="page"]')
    assert [a.text.strip() for a in current] == [label], f"menu marks {[a.text for a in current]} as current on {label}"


def field(drv, name: str):
    return drv.find_element(By.CSS_SELECTOR, f'main form [name="{name}"]')


def type_into(drv, name: str, text: str) -> None:
    """Click the field's label (moves focus into it, as for a person), replace what is there, type."""
    element = field(drv, name)
    click(drv, drv.find_element(By.CSS_SELECTOR, f'label[for="{element.get_attribute("id")}"]'))
    assert drv.switch_to.active_element == element, f"clicking the label of {name} did not focus its field"
    element.clear()
    if text:
        element.send_keys(text)


NB_MONTHS = ["januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september", "oktober",
             "november", "desember"]


def nb_date(day: dt.date) -> str:
    """The one date format of the clinician pages: '5. desember 2026'."""
    return f"{day.day}. {NB_MONTHS[day.month - 1]} {day.year}"


def type_date(drv, name: str, day: dt.date) -> None:
    """Type a date into an <input type=date> in the order this browser's date field takes (it follows the
    browser's own locale: month-day-year in the en-US build Debian ships, day-month-year in Norwegian)."""
    element = field(drv, name)
    click(drv, drv.find_element(By.CSS_SELECTOR, f'label[for="{element.get_attribute("id")}"]'))
    for layout in ("%d%m%Y", "%m%d%Y", "%Y%m%d"):
        element.clear()
        element.send_keys(day.strftime(layout))
        if element.get_attribute("value") == day.isoformat():
            return
    raise AssertionError(f"could not type {day} into the date field {name}: value {element.get_attribute('value')!r}")


def pick(drv, name: str, value: str) -> None:
    Select(field(drv, name)).select_by_value(value)


def submit(drv, form_selector: str = "main form") -> None:
    click_and_wait_for_new_page(drv, drv.find_element(By.CSS_SELECTOR, f'{form_selector} button[type="submit"]'))


def table_rows(drv, caption: str) -> list[list[str]]:
    """The body rows (cell texts) of the table with this caption."""
    table = drv.find_element(By.XPATH, f'//table[caption[normalize-space()="{caption}"]]')
    return [[td.get_attribute("textContent").strip() for td in tr.find_elements(By.TAG_NAME, "td")]
            for tr in table.find_elements(By.CSS_SELECTOR, "tbody tr")]


def check_error_summary(drv, anchor: str | None, problems: list[str], what: str) -> None:
    summary = drv.find_elements(By.CSS_SELECTOR, "main .error-summary")
    if not summary:
        problems.append(f"{what}: no error summary")
        return
    if not drv.title.startswith("Feil:"):
        problems.append(f"{what}: title {drv.title!r} does not start with 'Feil:'")
    if anchor:
        links = [a.get_attribute("href").split("#")[-1] for a in summary[0].find_elements(By.TAG_NAME, "a")]
        if links != [anchor]:
            problems.append(f"{what}: error summary links {links}, expected [{anchor!r}]")


def scroll_width(drv) -> int:
    return drv.execute_script("return Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")


# ---------------------------------------------------------------------------------------------------------------
# The patient's side (second browser, phone size)
# ---------------------------------------------------------------------------------------------------------------
def invitation_link(clinic: Clinic) -> str:
    mails = sorted(clinic.mailbox.glob("*.eml"))
    assert len(mails) == 1, f"expected one invitation e-mail in {clinic.mailbox}: {mails}"
    message = email.message_from_bytes(mails[0].read_bytes(), policy=email.policy.default)
    assert message["To"] == PATIENT_EMAIL, message["To"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    m = re.search(re.escape(clinic.base) + r"/a/[A-Za-z0-9_-]+", text)
    assert m, f"no link to {clinic.base}/a/… in the invitation:\n{text}"
    return m.group(0)


def answer_baseline(url: str) -> set[str]:
    """The patient opens the link on a phone and answers every question (RAND-36, EQ-5D-5L), then sends."""
    drv = new_driver(PHONE)
    try:
        token_path = urlsplit(url).path
        drv.get(url)
        assert drv.find_element(By.TAG_NAME, "html").get_attribute("lang") == "nb"
        assert not drv.get_cookie("svar_session"), "the patient's browser has a clinician session"
        start(drv)
        wait_for_url(drv, re.escape(token_path) + r"/s/1(\?|$)", "step 1")
        answered: set[str] = set()
        while re.search(re.escape(token_path) + r"/s/\d+", drv.current_url):
            radios, numbers = radio_names(drv), number_names(drv)
            assert radios or numbers, f"no questions at {drv.current_url}"
            for name in radios:
                choose(drv, name, planned(name))
            for name in numbers:
                type_number(drv, name, planned(name))
            answered.update(radios + numbers)
            press_submit(drv)
        wait_for_url(drv, re.escape(token_path) + r"/review(\?|$)", "the review page")
        press_submit(drv)
        wait_for_url(drv, re.escape(token_path) + r"/done(\?|$)", "the thank-you page")
        return answered
    finally:
        drv.quit()


# ---------------------------------------------------------------------------------------------------------------
# The flow
# ---------------------------------------------------------------------------------------------------------------
def test_clinician_enrols_patient_answers_and_clinician_sees_results(clinic, driver, audit):
    drv = driver
    base = clinic.base
    problems: list[str] = []
    yesterday = oslo_today() - dt.timedelta(days=1)
    number, second_number, third_number = synthetic_numbers(3)

    # -- 1. Login: asked for a page while logged out -> the login page, which remembers where to go.
    drv.get(base + "/oversikt")
    assert path_of(drv) == "/login", f"logged out, /oversikt should send to /login, got {drv.current_url}"
    assert parse_qs(urlsplit(drv.current_url).query).get("neste") == ["/oversikt"], drv.current_url
    assert h1(drv) == "Logg inn"
    audit.page(drv, "login")

    order = keyboard_login(drv, CLINICIAN, "feil-passord-helt-feil")
    expected_order = ["skip-link", "username", "password", "code", "button:Logg inn"]
    if order != expected_order:
        problems.append(f"login page: Tab order {order}, expected {expected_order}")
    assert path_of(drv) == "/login", f"a wrong password should show the login page again, got {drv.current_url}"
    check_error_summary(drv, None, problems, "wrong password")
    if "Feil brukernavn, passord eller kode" not in main_text(drv):
        problems.append(f"wrong password: message not shown: {main_text(drv)[:300]}")
    if field(drv, "username").get_attribute("value") != CLINICIAN:
        problems.append("wrong password: the user name was not kept")
    if field(drv, "password").get_attribute("value"):
        problems.append("wrong password: the password was sent back to the browser")
    audit.page(drv, "login-error")

    order = keyboard_login(drv, CLINICIAN, CLINICIAN_PASSWORD)
    assert path_of(drv) == "/oversikt", f"after login expected /oversikt (neste), got {drv.current_url}\n{main_text(drv)}"
    if order[:5] != expected_order:
        problems.append(f"login page with an error: Tab order {order}, expected {expected_order}")
    cookie = drv.get_cookie("svar_session")
    assert cookie and cookie["httpOnly"] and cookie.get("sameSite") == "Strict", f"session cookie {cookie}"

    # -- 2. Enrol through the form: first an identity number with a wrong control digit.
    nav_to(drv, "Registrer pasient")
    assert h1(drv) == "Registrer pasient"
    audit.page(drv, "registrer")
    bad_number = number[:9] + str((int(number[9]) + 1) % 10) + number[10]
    type_into(drv, "identityNumber", bad_number)
    type_into(drv, "name", PATIENT_NAME)
    type_into(drv, "email", PATIENT_EMAIL)
    pick(drv, "language", "nb")
    pick(drv, "unit", UNIT)
    pick(drv, "type", "D01")
    type_date(drv, "startDate", yesterday)
    submit(drv)
    assert path_of(drv) == "/registrer", f"an invalid number should keep the form, got {drv.current_url}"
    check_error_summary(drv, "felt-identityNumber", problems, "enrol with a wrong control digit")
    number_field = field(drv, "identityNumber")
    if number_field.get_attribute("aria-invalid") != "true" or \
            "feil-identityNumber" not in (number_field.get_attribute("aria-describedby") or "").split():
        problems.append("enrol error: the number field is not marked invalid / not described by its error message")
    kept = {n: field(drv, n).get_attribute("value") for n in ("identityNumber", "name", "email", "startDate")}
    if kept != {"identityNumber": bad_number, "name": PATIENT_NAME, "email": PATIENT_EMAIL,
                "startDate": yesterday.isoformat()}:
        problems.append(f"enrol error: the form did not keep what was typed: {kept}")
    audit.page(drv, "registrer-error")
    # Follow the error link like a person (focus lands in the field), then type the right number.
    click(drv, drv.find_element(By.CSS_SELECTOR, "main .error-summary a"))
    type_into(drv, "identityNumber", number)
    submit(drv)
    m = re.fullmatch(r"/pasient/([0-9a-f-]{36})", path_of(drv))
    assert m, f"enrolment should end on the patient page, got {drv.current_url}\n{main_text(drv)}"
    patient = m.group(1)
    fragment = urlsplit(drv.current_url).fragment
    assert fragment.startswith("forlop-"), drv.current_url
    course = fragment.removeprefix("forlop-")
    clinic.state["patient"] = patient
    assert h1(drv) == f"Pasient {patient[:8]}"
    assert PATIENT_NAME in drv.find_element(By.CSS_SELECTOR, "main .identity").text
    assert number not in drv.page_source, "a behandler should not see the identity number"
    events = table_rows(drv, "Hendelser")
    assert ["Start", nb_date(yesterday), UNIT] in events, events
    invitations = table_rows(drv, "Skjemaer")
    assert len(invitations) == 1 and invitations[0][:3] == ["Oppstart", "rand36, eq5d-5l", "Planlagt"], invitations
    assert "ikke besvart noe skjema" in main_text(drv)
    audit.page(drv, "pasient-uten-svar")

    # A second patient, through the API, with no e-mail or mobile: the invitation cannot be delivered.
    second = clinic.srv.enrol(second_number, name=SECOND_NAME)
    second_course = clinic.srv.start_course(second, UNIT)
    clinic.srv.event(second_course, "start", yesterday)

    # -- 3. Invite and deliver: the e-mail in the file mailbox carries the patient's link.
    tick = clinic.svar.run("tick", env=clinic.env)
    assert tick.rc == 0 and parse_tick(tick.stdout)["invited"] == 2, tick
    deliver = clinic.svar.run("deliver", env=clinic.env)
    assert deliver.rc == 0 and re.search(r": sent 1, .*undeliverable 1,", deliver.stdout), deliver
    link = invitation_link(clinic)

    # -- 4. The patient answers on a phone, in a browser of their own.
    answered = answer_baseline(link)
    assert answered == {str(i) for i in RAND_ANSWERS} | set(EQ5D_LEVELS) | {"VAS"}, sorted(answered)

    # -- 5. The clinician reloads the patient page: charts, scores, answers.
    drv.refresh()
    WebDriverWait(drv, PAGE_WAIT).until(lambda d: d.execute_script("return document.readyState") == "complete")
    assert table_rows(drv, "Skjemaer")[0][2] == "Besvart", table_rows(drv, "Skjemaer")
    problems += check_charts(drv)
    problems += check_scores(drv, clinic, patient)
    audit.page(drv, "pasient")
    set_viewport(drv, PHONE)
    try:
        drv.refresh()
        WebDriverWait(drv, PAGE_WAIT).until(lambda d: d.execute_script("return document.readyState") == "complete")
        if scroll_width(drv) > PHONE[0]:
            problems.append(f"patient page at {PHONE[0]} px scrolls sideways (scrollWidth {scroll_width(drv)})")
        for summary in drv.find_elements(By.CSS_SELECTOR, "main details.response summary"):
            click(drv, summary)  # the answers too, laid out at phone width
        narrow = [round(s.rect["width"]) for s in drv.find_elements(By.CSS_SELECTOR, "figure.chart svg")]
        if any(w < 300 or w > PHONE[0] for w in narrow):
            problems.append(f"charts at {PHONE[0]} px are {narrow} px wide")
        audit.page(drv, "pasient-390", PHONE)
    finally:
        set_viewport(drv, DESKTOP)
        drv.refresh()

    # Record a pathway event. The form offers only what may come next (never a second start); first one the
    # pathway refuses (a first attendance before the course started), then the first attendance today.
    form = f'form[action="/forlop/{course}/hendelse"]'
    offered = [o.get_attribute("value") for o in drv.find_elements(By.CSS_SELECTOR, f'{form} [name="type"] option')]
    assert offered[0] == "firstAttendance" and "start" not in offered, f"event form offers {offered}"
    pick_in(drv, form, "type", "firstAttendance")
    date_field = drv.find_element(By.CSS_SELECTOR, f'{form} [name="date"]')
    drv.execute_script("arguments[0].value = arguments[1]", date_field, (yesterday - dt.timedelta(days=1)).isoformat())
    submit(drv, form)
    check_error_summary(drv, f"date-{course}", problems, "an event before the start")
    if "Hendelsen ble ikke registrert" not in main_text(drv):
        problems.append(f"event before the start: no message on the patient page: {main_text(drv)[:300]}")
    audit.page(drv, "pasient-hendelse-feil")
    drv.execute_script("arguments[0].value = arguments[1]", drv.find_element(By.CSS_SELECTOR, f'{form} [name="date"]'),
                       oslo_today().isoformat())
    submit(drv, form)
    assert path_of(drv) == f"/pasient/{patient}", drv.current_url
    saved = drv.find_elements(By.CSS_SELECTOR, 'main [role="status"]')
    assert saved and saved[0].text == "Hendelsen er registrert i forløpet.", [e.text for e in saved]
    events = table_rows(drv, "Hendelser")
    assert ["Første oppmøte", nb_date(oslo_today()), UNIT] in events, events
    audit.page(drv, "pasient-lagret")

    # Registering the same number again: the page says it is known and what would happen, and saves nothing.
    nav_to(drv, "Registrer pasient")
    type_into(drv, "identityNumber", number)
    type_into(drv, "name", "Nytt Navn")
    submit(drv)
    assert path_of(drv) == "/registrer" and "Fødselsnummeret er allerede registrert" in main_text(drv), main_text(drv)[:300]
    assert field(drv, "name").get_attribute("value") == "Nytt Navn", "the typed name is kept in the form"
    audit.page(drv, "registrer-kjent")
    drv.get(f"{base}/pasient/{patient}")

    # -- Invitations, the follow-up worklist (mark as contacted), response rates, start page.
    nav_to(drv, "Invitasjoner")
    rows = table_rows(drv, "Skjemaer ved enhetene dine: status og levering")
    states = sorted((r[0], r[3]) for r in rows)
    # A behandler sees names in the lists (each read audited), never the identity number.
    assert states == sorted([(PATIENT_NAME, "Besvart"), (SECOND_NAME, "Ikke nådd")]), rows
    audit.page(drv, "invitasjoner")

    # The follow-up list: how to reach the patient, why the invitation did not arrive (in words), and a contact
    # recorded with a note, after which the item moves to the "followed up" tab.
    nav_to(drv, "Oppfølging")
    rows = table_rows(drv, "Til oppfølging")
    assert len(rows) == 1 and rows[0][0] == SECOND_NAME and rows[0][4] == "Ikke nådd", rows
    link = drv.find_element(By.XPATH, '//main//a[contains(., "Marker som kontaktet")]')
    accessible = link.get_attribute("textContent")
    assert SECOND_NAME in accessible and "Oppstart" in accessible, f"link text {accessible!r} does not say whom"
    audit.page(drv, "oppfolging")
    target = urlsplit(link.get_attribute("href")).path
    click_and_wait_for_new_page(drv, link)
    assert path_of(drv) == target and target.startswith("/oppfolging/") and target.endswith("/kontaktet"), drv.current_url
    assert h1(drv) == "Registrer kontakt med pasienten", h1(drv)
    audit.page(drv, "oppfolging-kontakt")
    type_into(drv, "note", "Ringte pasienten. Nytt skjema neste uke.")
    submit(drv)
    assert path_of(drv) == "/oppfolging" and "Kontakten er registrert." in main_text(drv), main_text(drv)[:300]
    assert "Ingenting å følge opp." in main_text(drv), main_text(drv)[:300]
    click_and_wait_for_new_page(drv, drv.find_element(By.XPATH, '//main//nav[contains(@class, "tabs")]//a[contains(., "Fulgt opp (1)")]'))
    rows = table_rows(drv, "Fulgt opp")
    assert CLINICIAN in rows[0][-1] and "Nytt skjema neste uke." in rows[0][-1], rows
    audit.page(drv, "oppfolging-utfort")

    nav_to(drv, "Svarprosent")
    rows = table_rows(drv, "Svar per måletidspunkt")
    assert [f"{UNIT_NAME} ({UNIT})", "Oppstart"] in [r[:2] for r in rows], rows
    row = next(r for r in rows if r[:2] == [f"{UNIT_NAME} ({UNIT})", "Oppstart"])
    # Eligible, invited, answered, expired, not reached, reserved, declined, awaiting, rate, median days: one answered
    # and one not reached of two, under the same small-cell rule as `svar report` (counts under 5, no rate or median).
    assert row[2:] == ["<5", "<5", "<5", "0", "<5", "0", "0", "0", "–", "–"], f"small cells on the dashboard {row}"
    audit.page(drv, "oversikt")

    nav_to(drv, "Forløp")
    rows = table_rows(drv, "Forløp ved enhetene dine, med neste skjema")
    assert sorted(r[0] for r in rows) == sorted([PATIENT_NAME, SECOND_NAME]), rows
    audit.page(drv, "start")
    # Search by identity number (looked up through the vault's keyed hash): only that patient is left.
    type_into(drv, "sok", second_number)
    submit(drv, "main form.list-controls")
    rows = table_rows(drv, "Forløp ved enhetene dine, med neste skjema")
    assert [r[0] for r in rows] == [SECOND_NAME] and "Viser 1–1 av 1." in main_text(drv), rows
    audit.page(drv, "start-sok")
    nav_to(drv, "Forløp")
    click_and_wait_for_new_page(drv, drv.find_element(By.LINK_TEXT, PATIENT_NAME))
    assert path_of(drv) == f"/pasient/{patient}", drv.current_url

    # -- Not found: an unknown patient, and a patient of a unit this clinician does not work for (same answer).
    drv.get(f"{base}/pasient/00000000-0000-4000-8000-000000000000")
    assert h1(drv) == "Ikke funnet", h1(drv)
    audit.page(drv, "ikke-funnet")
    elsewhere = clinic.srv.enrol(third_number, name="Annen Enhet")
    clinic.srv.start_course(elsewhere, OTHER_UNIT)
    drv.get(f"{base}/pasient/{elsewhere}")
    assert h1(drv) == "Ikke funnet" and "Annen Enhet" not in drv.page_source, h1(drv)
    # No name from a unit this clinician does not work for: not in any list, not found by name or number.
    for path in ["/", "/invitasjoner", "/oppfolging", "/oppfolging?vis=utfort"]:
        drv.get(base + path)
        assert "Annen Enhet" not in drv.page_source and elsewhere[:8] not in drv.page_source, path
    for search in ["Annen Enhet", third_number]:
        drv.get(base + "/")
        type_into(drv, "sok", search)
        submit(drv, "main form.list-controls")
        assert "Ingen treff." in main_text(drv) and elsewhere[:8] not in drv.page_source, search
        assert search not in drv.current_url, "a search never goes into the URL"

    # Keyboard only: from the top of a page, Tab reaches the menu and Enter follows it.
    drv.get(base + "/")
    keyboard_follow(drv, "Oppfølging")
    assert path_of(drv) == "/oppfolging", drv.current_url
    keyboard_follow(drv, "Forløp")
    assert path_of(drv) == "/", drv.current_url

    # -- Log out: the session ends; the pages send to the login page again.
    click_and_wait_for_new_page(drv, drv.find_element(By.CSS_SELECTOR, "form.logout button"))
    assert path_of(drv) == "/login", drv.current_url
    drv.get(f"{base}/pasient/{patient}")
    assert path_of(drv) == "/login", f"after logout the patient page should need a login, got {drv.current_url}"

    report = audit.report()
    assert not problems and not report, \
        "\n".join(problems) + ("\n\naxe-core violations (WCAG 2.x A/AA):\n" + report if report else "")


def pick_in(drv, form_selector: str, name: str, value: str) -> None:
    Select(drv.find_element(By.CSS_SELECTOR, f'{form_selector} [name="{name}"]')).select_by_value(value)


def check_charts(drv) -> list[str]:
    """Three inline SVG charts, each an image named by its <title> and described (values in words) by <desc>."""
    problems: list[str] = []
    svgs = drv.find_elements(By.CSS_SELECTOR, "main figure.chart svg")
    titles = []
    descs = {}
    for svg in svgs:
        if svg.get_attribute("role") != "img":
            problems.append(f"chart {svg.get_attribute('id')}: role={svg.get_attribute('role')}")
        title_id, desc_id = svg.get_attribute("aria-labelledby"), svg.get_attribute("aria-describedby")
        title = drv.execute_script("var e = document.getElementById(arguments[0]); return e && e.tagName === 'title'"
                                   " ? e.textContent : null", title_id)
        desc = drv.execute_script("var e = document.getElementById(arguments[0]); return e && e.tagName === 'desc'"
                                  " ? e.textContent : null", desc_id)
        if not title or not desc:
            problems.append(f"chart {svg.get_attribute('id')}: aria-labelledby/-describedby do not name its "
                            f"<title>/<desc> ({title_id!r}, {desc_id!r})")
            continue
        titles.append(title)
        descs[title] = desc
        if svg.rect["width"] < 300 or svg.rect["height"] < 150:
            problems.append(f"chart {title!r} is drawn {svg.rect['width']}x{svg.rect['height']} px")
    expected_titles = ["RAND-36: profil per måletidspunkt", "EQ-5D indeks over tid", "EQ VAS over tid"]
    if titles != expected_titles:
        return problems + [f"chart titles {titles}, expected {expected_titles}"]

    rand = expected_rand36()
    profile = descs[expected_titles[0]]
    for scale, label in SCALE_NAMES.items():
        # Said with 0 decimals; a value exactly halfway (62.5) may be said either way (the chart formats with
        # printf, which rounds 62.5 to 62 and 67.5 to 68).
        said = re.search(re.escape(label) + r" (-?\d+) ved Oppstart", profile)
        if not said or abs(Fraction(int(said.group(1))) - rand[scale]) > Fraction(1, 2):
            problems.append(f"RAND-36 chart <desc> does not say {label} {float(rand[scale]):.2f} (to 0 decimals): {profile}")
    index = Decimal(expected_eq5d_index().numerator) / Decimal(expected_eq5d_index().denominator)
    index_text = str(index.quantize(Decimal("0.001"), ROUND_HALF_UP)).replace(".", ",")
    if index_text not in descs[expected_titles[1]]:
        problems.append(f"EQ-5D index chart <desc> does not say {index_text}: {descs[expected_titles[1]]}")
    if not re.search(rf"\b{EQ5D_VAS}\b", descs[expected_titles[2]]):
        problems.append(f"EQ VAS chart <desc> does not say {EQ5D_VAS}: {descs[expected_titles[2]]}")
    return problems


def check_scores(drv, clinic: Clinic, patient: str) -> list[str]:
    """Open the answered questionnaires (details/summary, clicked) and compare the scores on the page with the
    API's and with the independently computed values."""
    problems: list[str] = []
    api = clinic.srv.get(f"/api/v1/patients/{patient}/results")
    assert api.status == 200, api
    results = json.loads(api.text, parse_float=Decimal, parse_int=Decimal)
    by_instrument = {r["instrument"]: {s["key"]: s["value"] for s in r["scores"]} for r in results}
    assert set(by_instrument) == {"rand36", "eq5d-5l"}, api.text[:500]

    details = drv.find_elements(By.CSS_SELECTOR, "main details.response")
    assert len(details) == 2, f"{len(details)} answered questionnaires listed"
    page: dict[str, str] = {}
    answers_rows = 0
    for d in details:
        click(drv, d.find_element(By.TAG_NAME, "summary"))
        if d.get_attribute("open") is None:
            problems.append("clicking a questionnaire's summary did not open it")
        for tr in d.find_elements(By.XPATH, './/table[caption="Skårer"]/tbody/tr'):
            cells = [td.text.strip() for td in tr.find_elements(By.TAG_NAME, "td")]
            page[cells[0]] = cells[1]
        answers_rows += len(d.find_elements(By.XPATH, './/table[caption="Spørsmål og svar"]/tbody/tr'))
    if answers_rows != len(RAND_ANSWERS) + len(EQ5D_LEVELS) + 1:
        problems.append(f"{answers_rows} answered questions listed, expected {len(RAND_ANSWERS) + len(EQ5D_LEVELS) + 1}")

    def compare(label: str, api_value: Decimal, expected: Fraction, places: int) -> None:
        """`places`: the decimals charts.json gives the score (the page rounds the API's exact value to them)."""
        shown = page.get(label)
        if shown is None:
            problems.append(f"no score {label!r} on the page (scores shown: {sorted(page)})")
            return
        if Fraction(api_value) != expected and abs(Fraction(api_value) - expected) >= Fraction(1, 10 ** 9):
            problems.append(f"API {label}: {api_value}, expected {float(expected)}")
        if Decimal(shown.replace(",", ".").replace("\u2212", "-")) != api_value.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP):
            problems.append(f"page {label}: {shown}, API {api_value}")

    rand = expected_rand36()
    for scale, label in SCALE_NAMES.items():
        compare(label, by_instrument["rand36"][scale], rand[scale], 1)
    # EQ-5D scores under their names from instruments/eq5d-5l/charts.json
    compare("EQ-5D-indeks", by_instrument["eq5d-5l"]["index"], expected_eq5d_index(), 3)
    compare("EQ VAS", by_instrument["eq5d-5l"]["vas"], Fraction(EQ5D_VAS), 0)

    # The chart's own data point is the API's number too.
    index_points = drv.execute_script(
        "return Array.from(document.querySelectorAll('figure.chart svg')).filter(function (s) {"
        " return s.querySelector('title').textContent === 'EQ-5D indeks over tid'; })"
        ".map(function (s) { return Array.from(s.querySelectorAll('g.point')).map(function (g) {"
        " return g.getAttribute('data-value'); }); })")
    if [[float(v) for v in p] for p in index_points] != [[float(by_instrument["eq5d-5l"]["index"])]]:
        problems.append(f"EQ-5D chart points {index_points}, API index {by_instrument['eq5d-5l']['index']}")
    return problems


# ---------------------------------------------------------------------------------------------------------------
# A role that may not enrol: the 403 page
# ---------------------------------------------------------------------------------------------------------------
def test_registry_contact_gets_a_forbidden_page(clinic, driver, audit):
    drv = driver
    drv.delete_all_cookies()
    drv.get(clinic.base + "/login")
    keyboard_login(drv, REGISTRY, REGISTRY_PASSWORD)
    assert path_of(drv) == "/", drv.current_url
    labels = [a.text.strip() for a in drv.find_elements(By.CSS_SELECTOR, "nav.clinician-nav a")]
    assert "Registrer pasient" not in labels and "Oppfølging" not in labels, labels
    drv.get(clinic.base + "/registrer")
    assert not drv.find_elements(By.CSS_SELECTOR, 'main form [name="identityNumber"]'), "a registry contact got the enrol form"
    assert h1(drv), "the 403 page has no heading"
    audit.page(drv, "ingen-tilgang")
    click_and_wait_for_new_page(drv, drv.find_element(By.CSS_SELECTOR, "form.logout button"))
    report = audit.report(["ingen-tilgang"])
    assert not report, "axe-core violations (WCAG 2.x A/AA):\n" + report


# ---------------------------------------------------------------------------------------------------------------
# JavaScript switched off: everything still works (the pages are plain HTML forms, links, details and inline SVG)
# ---------------------------------------------------------------------------------------------------------------
def test_pages_work_with_javascript_switched_off(clinic):
    patient = clinic.state.get("patient")
    assert patient, "the flow test did not get as far as an answered patient"
    drv = new_driver(DESKTOP, javascript=False)
    try:
        # Scripts really are off: a page's own script does not run.
        drv.get("data:text/html,<title>av</title><script>document.title = 'på'</script>")
        assert drv.title == "av", "JavaScript is still on in this browser"

        drv.get(clinic.base + "/login")
        keyboard_login(drv, CLINICIAN, CLINICIAN_PASSWORD)
        assert path_of(drv) == "/" and h1(drv) == "Forløp", drv.current_url
        click_and_wait_for_new_page(drv, drv.find_element(By.LINK_TEXT, PATIENT_NAME))
        svgs = drv.find_elements(By.CSS_SELECTOR, "main figure.chart svg")
        assert len(svgs) == 3 and all(s.rect["width"] > 300 and s.rect["height"] > 150 for s in svgs), \
            [s.rect for s in svgs]
        summary = drv.find_element(By.CSS_SELECTOR, "main details.response summary")
        click(drv, summary)
        assert summary.find_element(By.XPATH, "..").get_attribute("open") is not None, "details did not open"

        nav_to(drv, "Registrer pasient")
        type_into(drv, "identityNumber", synthetic_numbers(4)[3])
        type_into(drv, "name", "Uten Skript")
        submit(drv)
        assert re.fullmatch(r"/pasient/[0-9a-f-]{36}", path_of(drv)), f"{drv.current_url}\n{main_text(drv)}"
        assert "Uten Skript" in main_text(drv)

        # The page language: a form button in the header, kept for the user, back on the same page.
        page = path_of(drv)
        click_and_wait_for_new_page(drv, drv.find_element(By.CSS_SELECTOR, 'form.language-switch button[value="nn"]'))
        assert path_of(drv) == page, drv.current_url
        assert drv.find_element(By.TAG_NAME, "html").get_attribute("lang") == "nn"
        assert "Resultat over tid" in main_text(drv), main_text(drv)[:300]
        click_and_wait_for_new_page(drv, drv.find_element(By.CSS_SELECTOR, 'form.language-switch button[value="nb"]'))
        assert drv.find_element(By.TAG_NAME, "html").get_attribute("lang") == "nb"
        assert "Resultater over tid" in main_text(drv), main_text(drv)[:300]

        click_and_wait_for_new_page(drv, drv.find_element(By.CSS_SELECTOR, "form.logout button"))
        assert path_of(drv) == "/login", drv.current_url
    finally:
        drv.quit()
