#!/usr/bin/env python3
"""Browser test of the CreditWatch city dashboard (/dashboard), headless Chromium via Selenium.

Environment:
  DASHBOARD_URL   the daemon, e.g. http://127.0.0.1:18080
  OFFICE_KEY      a financial-office analyst key (city scope, with read_data_health)
  BANK_KEY        a bank officer key
  BANK_PORTFOLIO  the bank's portfolio: comma-separated USCCs
  SCREENSHOT_DIR  where <page>.png go (created if missing)
  DASHBOARD_TEST_DESK=0   skip posting a desk comment (the one write the test makes)

Exit status 0 when every check passed; 1 with the failed checks listed otherwise.
See Tests/Browser/README.md.
"""
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

PAGE_TIMEOUT = 30  # seconds for a page to render (the first overview walks the event feed)
CHART_TIMEOUT = 10  # seconds for every chart's canvas to show something


class Abort(Exception):
    """A failure after which the rest of a scenario cannot run."""


def env(name):
    value = os.environ.get(name, '').strip()
    if not value:
        sys.exit(f'dashboard_test: environment variable {name} is required (see Tests/Browser/README.md)')
    return value


BASE = env('DASHBOARD_URL').rstrip('/')
OFFICE_KEY = env('OFFICE_KEY')
BANK_KEY = env('BANK_KEY')
PORTFOLIO = {u.strip() for u in env('BANK_PORTFOLIO').split(',') if u.strip()}
SHOTS = env('SCREENSHOT_DIR')
DESK = os.environ.get('DASHBOARD_TEST_DESK', '1') != '0'


# ------------------------------------------------------------------ the API, from Python

def api(path, key):
    request = urllib.request.Request(BASE + path, headers={'Authorization': f'Bearer {key}', 'Accept': 'application/json'})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as e:
        raise Abort(f'API {path}: HTTP {e.code} {e.read()[:300]!r}') from None
    except urllib.error.URLError as e:
        raise Abort(f'API {path}: {e.reason} (is the daemon running at {BASE}?)') from None


# ------------------------------------------------------------------ results

class Results:
    def __init__(self):
        self.failures = []
        self.pages = []
        self.charts = 0
        self.numbers = 0
        self.screens = []
        self.notes = []

    def check(self, ok, message):
        if not ok:
            self.failures.append(message)
            print(f'  FAIL {message}', flush=True)
        return ok

    def equal(self, what, shown, expected):
        self.numbers += 1
        return self.check(shown == expected, f'{what}: the page shows {shown!r}, the API says {expected!r}')


R = Results()


# ------------------------------------------------------------------ the browser

CHART_PROBE = """
const out = [];
for (const box of document.querySelectorAll('#view [data-chart]')) {
  const r = {id: box.id, chart: box.getAttribute('data-chart')};
  const instance = window.echarts && echarts.getInstanceByDom(box);
  r.renderer = instance ? instance.getZr().painter.getType() : null;
  r.finished = box.getAttribute('data-rendered') === 'true';  // set by app.js on ECharts 'finished'
  const canvases = [...box.querySelectorAll('canvas')];
  r.canvases = canvases.length;
  r.sizes = canvases.map((c) => [c.width, c.height]);
  r.painted = false;
  for (const c of canvases) {
    if (!(c.width > 0 && c.height > 0)) continue;
    const blank = document.createElement('canvas');
    blank.width = c.width; blank.height = c.height;
    if (c.toDataURL() === blank.toDataURL()) continue;
    // toDataURL differs: confirm with the pixels (some alpha somewhere).
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < data.length; i += 16) { if (data[i] !== 0) { r.painted = true; break; } }
    if (r.painted) break;
  }
  out.push(r);
}
return out;
"""


class Browser:
    def __init__(self):
        options = webdriver.ChromeOptions()
        options.binary_location = os.environ.get('CHROMIUM', '/usr/bin/chromium')
        for argument in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--window-size=1600,1000', '--lang=zh-CN'):
            options.add_argument(argument)
        options.set_capability('goog:loggingPrefs', {'browser': 'ALL', 'performance': 'ALL'})
        self.driver = webdriver.Chrome(service=Service(executable_path=os.environ.get('CHROMEDRIVER', '/usr/bin/chromedriver')), options=options)
        self.driver.set_page_load_timeout(PAGE_TIMEOUT)
        self.requests = {}  # requestId → (url, type), across drains

    def quit(self):
        self.driver.quit()

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def wait(self, condition, timeout, what):
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(lambda d: condition())
        except TimeoutException:
            raise Abort(f'timed out after {timeout}s waiting for {what}') from None

    # -- navigation

    def open(self, fragment):
        self.driver.get(f'{BASE}/dashboard{fragment}')

    def go(self, path):
        """A hash route, as a link would (no reload)."""
        self.js('location.hash = arguments[0]', '#' + path)

    def route(self):
        return self.js("const v = document.getElementById('view'); return v ? [v.dataset.route || '', v.dataset.ready || ''] : ['', '']")

    def wait_page(self, path, what=None):
        """Until the page of `path` has rendered (app.js sets #view[data-route][data-ready=true])."""
        started = time.monotonic()
        self.wait(lambda: self.route() == [path, 'true'], PAGE_TIMEOUT, f'page {what or path} (at {self.route()})')
        return time.monotonic() - started

    def wait_login(self):
        self.wait(lambda: self.js("const l = document.getElementById('login'); return !!l && !l.hidden"), PAGE_TIMEOUT, 'the sign-in form')

    def sign_in(self, key, path='/overview'):
        self.wait_login()
        field = self.driver.find_element(By.ID, 'login-key')
        R.check(field.get_attribute('type') == 'password', 'the key input is not a password input')
        field.clear()
        field.send_keys(key)
        self.driver.find_element(By.ID, 'login-submit').click()
        self.wait(lambda: self.js("return document.getElementById('login').hidden"), PAGE_TIMEOUT, 'the sign-in to complete')
        return self.wait_page(path)

    def click(self, css, what):
        elements = self.driver.find_elements(By.CSS_SELECTOR, css)
        if not elements:
            raise Abort(f'no {what} to click ({css})')
        self.js('arguments[0].scrollIntoView({block: "center"})', elements[0])
        elements[0].click()
        return elements[0]

    # -- logs

    def drain(self):
        """(console entries, network problems, requested urls) since the last drain."""
        console = self.driver.get_log('browser')
        problems, urls = [], []
        for entry in self.driver.get_log('performance'):
            message = json.loads(entry['message'])['message']
            method, params = message.get('method'), message.get('params', {})
            if method == 'Network.requestWillBeSent':
                url = params['request']['url']
                self.requests[params['requestId']] = (url, params.get('type'))
                urls.append(url)
            elif method == 'Network.responseReceived':
                status = params['response']['status']
                if status >= 400:
                    problems.append((params['response']['url'], status, params.get('type')))
            elif method == 'Network.loadingFailed':
                url, kind = self.requests.get(params['requestId'], ('?', params.get('type')))
                # A stream the page closed on leaving (EventSource.close) is cancelled, not failed.
                if params.get('canceled') and (kind or params.get('type')) == 'EventSource':
                    continue
                problems.append((url, params.get('errorText', 'failed') + (' (canceled)' if params.get('canceled') else ''), kind or params.get('type')))
        return console, problems, urls

    def assert_clean(self, page, allow=()):
        """No SEVERE console entry and no failed request, except the (url part, status) pairs in allow."""
        console, problems, urls = self.drain()

        def allowed(url, status):
            return any(part in url and status == code for part, code in allow)
        for entry in console:
            if entry['level'] != 'SEVERE':
                continue
            text = entry['message']
            if any(part in text and str(code) in text for part, code in allow):
                continue
            R.check(False, f'{page}: browser console: {text}')
        for url, status, kind in problems:
            if not allowed(url, status):
                R.check(False, f'{page}: request failed: {kind} {url} → {status}')
        banner = self.js("const b = document.getElementById('error-banner'); return b.hidden ? null : document.getElementById('error-text').textContent")
        R.check(banner is None, f'{page}: the error banner shows: {banner}')
        injected = self.js("return document.querySelectorAll('#view script, #view img, #view iframe, #view object').length")
        R.check(injected == 0, f'{page}: {injected} script/img/iframe/object elements inside the page (unescaped data?)')
        return urls

    # -- charts

    def assert_charts(self, page, minimum=0):
        """Every [data-chart] has an id, an ECharts canvas instance and a painted canvas of non-zero size."""
        deadline = time.monotonic() + CHART_TIMEOUT
        while True:
            probes = self.js(CHART_PROBE)
            if all(p['painted'] and p['finished'] for p in probes) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        R.check(len(probes) >= minimum, f'{page}: {len(probes)} charts, expected at least {minimum}')
        for p in probes:
            name = f"{page}: chart {p['id'] or '(no id)'} [{p['chart']}]"
            R.check(bool(p['id']), f'{name} has no id')
            R.check(p['renderer'] == 'canvas', f"{name}: renderer {p['renderer']!r}, expected an ECharts canvas instance")
            R.check(p['canvases'] > 0, f'{name}: no <canvas>')
            R.check(any(w > 0 and h > 0 for w, h in p['sizes']), f"{name}: canvas size {p['sizes']}")
            R.check(p['painted'], f'{name}: the canvas is blank')
            R.check(p['finished'], f"{name}: ECharts did not report 'finished' within {CHART_TIMEOUT}s")
        R.charts += len(probes)
        return probes

    def kpi(self, key):
        value = self.js("const k = document.querySelector(`#view [data-kpi='${arguments[0]}']`); return k ? k.getAttribute('data-value') : null", key)
        if value is None:
            R.check(False, f'no KPI tile data-kpi={key!r}')
        return value

    def screenshot(self, name):
        os.makedirs(SHOTS, exist_ok=True)
        path = os.path.join(SHOTS, f'{name}.png')
        try:
            # The whole page, not only the window: the dashboards are taller than 1000 px.
            height = self.js('return Math.max(document.documentElement.scrollHeight, document.body.scrollHeight)')
            shot = self.driver.execute_cdp_cmd('Page.captureScreenshot', {
                'format': 'png', 'captureBeyondViewport': True,
                'clip': {'x': 0, 'y': 0, 'width': 1600, 'height': min(int(height), 12000), 'scale': 1}})
            import base64
            with open(path, 'wb') as f:
                f.write(base64.b64decode(shot['data']))
        except WebDriverException:
            self.driver.save_screenshot(path)
        R.screens.append(path)

    def page(self, name, path, *, charts=0, allow=(), shot=None):
        """Waits for the page, checks logs and charts, takes the screenshot."""
        seconds = self.wait_page(path, name)
        probes = self.assert_charts(name, charts)
        urls = self.assert_clean(name, allow)
        if shot:
            self.screenshot(shot)
        R.pages.append(f'{name} ({path}): {len(probes)} charts, {seconds:.2f}s')
        print(f'  ok {name}: {path}, {len(probes)} charts, {seconds:.2f}s', flush=True)
        return urls

    def hrefs(self, prefix):
        return self.js("return [...document.querySelectorAll('#view a[href]')].map((a) => a.getAttribute('href')).filter((h) => h.startsWith(arguments[0]))", prefix)


def num(text):
    """A data-value as the JSON number it came from."""
    if text in (None, ''):
        return None
    value = float(text)
    return int(value) if value.is_integer() and 'e' not in text and '.' not in text else value


# ------------------------------------------------------------------ scenarios

def office(b):
    print('office session', flush=True)
    me = api('/v1/me', OFFICE_KEY)
    permissions = set(me.get('permissions') or [])
    if 'read_data_health' not in permissions:
        raise Abort(f"the office key lacks read_data_health (has {sorted(permissions)}): the data-health page cannot be tested")
    R.check(me.get('scope') == 'city', f"the office key's scope is {me.get('scope')!r}, expected city")

    # Sign-in: the first /v1/me answers 401 on purpose (no session yet).
    b.open('#/overview')
    b.wait_login()
    b.assert_clean('sign-in form', allow=[('/v1/me', 401)])
    b.screenshot('office-login')
    b.sign_in(OFFICE_KEY)
    cookies = b.js('return document.cookie')
    R.check('cw_session' not in cookies, f'document.cookie shows the session cookie: {cookies!r} (it must be HttpOnly)')
    cookie = b.driver.get_cookie('cw_session')
    if R.check(cookie is not None, 'no cw_session cookie after signing in'):
        R.check(cookie.get('httpOnly') is True, f'cw_session is not HttpOnly: {cookie}')
        R.check(str(cookie.get('sameSite', '')).lower() == 'strict', f'cw_session is not SameSite=Strict: {cookie}')
    R.check(b.js("return document.getElementById('user-name').textContent") == me['name'], 'the header does not show the user name')
    R.check(b.js("return document.getElementById('user-org').textContent") == me['organisation']['name'], 'the header does not show the organisation')
    R.check(bool(b.js("return document.getElementById('user-scope').textContent")), 'the header does not show the scope')

    # Overview and its numbers.
    overview = api('/v1/stats/overview', OFFICE_KEY)
    feeds = api('/v1/feeds', OFFICE_KEY)
    b.page('overview', '/overview', charts=8, shot='office-overview')
    R.equal('overview enterprises', num(b.kpi('enterprises')), overview['enterprises'])
    R.equal('overview active alerts', num(b.kpi('active-alerts')), overview['active_alerts']['total'])
    R.equal('overview alerted enterprises', num(b.kpi('alerted-enterprises')), overview['active_alerts']['enterprises'])
    R.equal('overview feeds fresh share', num(b.kpi('fresh-share')), feeds['summary']['fresh_share'])
    R.equal('overview records', num(b.kpi('records')), feeds['summary']['records'])
    shown = b.js("return [...document.querySelectorAll('#division-links a')].map((a) => a.dataset.division)")
    R.equal('overview division links', shown, [d['division'] for d in overview['by_division'][:len(shown)]])
    if 'read_market' in permissions:
        market = api('/v1/market/stats', OFFICE_KEY)
        R.equal('overview market applications', num(b.kpi('market-applications')), market['applications'])
        R.equal('overview market disbursed (fen)', num(b.kpi('market-disbursed')), market['disbursed_fen'])
    # The live ticker: the stream opens (EventSource 'open').
    try:
        b.wait(lambda: b.js("return document.getElementById('live-state').classList.contains('on')"), 15, 'the alert stream to open')
    except Abort as e:
        R.check(False, f'overview: {e}')

    # Drill-down 1: a division bar on the chart → the industry page.
    divisions = overview['by_division']
    if divisions:
        first = divisions[0]['division']
        point = b.js("""
            const box = document.getElementById('chart-division'); const c = echarts.getInstanceByDom(box);
            const opt = c.getOption(); const v = opt.series[0].data[0];
            const [x, y] = c.convertToPixel({seriesIndex: 0}, [(typeof v === 'object' ? v.value : v) / 2, 0]);
            box.scrollIntoView({block: 'center'});
            return [x, y, box.clientWidth, box.clientHeight];""")
        box = b.driver.find_element(By.ID, 'chart-division')
        # A zero share draws no bar: click on the category label's row anyway (the bar's y).
        x = max(point[0], 60)
        ActionChains(b.driver).move_to_element_with_offset(box, int(x - point[2] / 2), int(point[1] - point[3] / 2)).click().perform()
        b.page('industry (from the division bar)', f'/industries/{first}', charts=2)
        # And the plain link list under the chart.
        b.go('/overview')
        b.page('overview again', '/overview', charts=8)
        b.click(f'#division-links a[data-division="{first}"]', 'division link')
        b.page('industry (from the division link)', f'/industries/{first}', charts=2, shot='office-industry')
        industry = api(f'/v1/industries/{first}', OFFICE_KEY)
        R.equal('industry population', num(b.kpi('population')), industry['population'])
        R.equal('industry active alerts', num(b.kpi('active-alerts')), industry['active_alerts'])
        R.equal('industry alerted share', num(b.kpi('alerted-share')), industry['alerted_share'])
    else:
        R.notes.append('the overview has no division: the division drill-down was not tested')

    # The alert list, its paging, then alert → enterprise → industry.
    b.go('/alerts')
    b.page('alert list', '/alerts', shot='office-alerts')
    first_page = api('/v1/alerts?limit=50', OFFICE_KEY)
    ids = b.js("return [...document.querySelectorAll('#alert-table tbody tr')].map((r) => Number(r.dataset.alertId))")
    R.equal('alert list ids (first page)', ids, [a['id'] for a in first_page['items']])
    if first_page['has_more']:
        b.click('#alerts-next', '下一页 button')
        b.wait(lambda: 'after=' in b.js('return location.hash') and b.route()[1] == 'true', PAGE_TIMEOUT, 'the next alert page')
        second = api(f"/v1/alerts?limit=50&after={first_page['next_cursor']}", OFFICE_KEY)
        b.assert_clean('alert list, page 2')
        ids = b.js("return [...document.querySelectorAll('#alert-table tbody tr')].map((r) => Number(r.dataset.alertId))")
        R.equal('alert list ids (page 2)', ids, [a['id'] for a in second['items']])
        b.click('#alerts-prev', '上一页 button')
        b.page('alert list, back to page 1', '/alerts')
    # A filter: only high and critical.
    b.go('/alerts?severity=high,critical')
    b.wait(lambda: b.route() == ['/alerts', 'true'] and 'severity' in b.js('return location.hash'), PAGE_TIMEOUT, 'the filtered alert list')
    b.assert_clean('alert list, filtered')
    severities = set(b.js("return [...document.querySelectorAll('#alert-table tbody tr .badge[class*=sev-]')].map((s) => s.className.match(/sev-(\\w+)/)[1])"))
    R.check(severities <= {'high', 'critical'}, f'the severity filter shows {sorted(severities)}')
    b.go('/alerts')
    b.page('alert list', '/alerts')

    row = b.driver.find_elements(By.CSS_SELECTOR, '#alert-table tr[data-subject-kind="enterprise"]')
    if not row:
        raise Abort('the first alert page has no enterprise alert to drill into')
    alert_id = row[0].get_attribute('data-alert-id')
    b.click('#alert-table tr[data-subject-kind="enterprise"] a.alert-link', 'enterprise alert link')
    b.page('alert', f'/alerts/{alert_id}', shot='office-alert')
    alert = api(f'/v1/alerts/{alert_id}', OFFICE_KEY)
    R.check(b.js("return document.getElementById('alert-title').textContent") == (alert['title'] or alert['rule']), 'the alert page title differs from the API')
    R.check(b.js("return document.getElementById('alert-explanation').textContent") == (alert['explanation'] or '—'), 'the alert explanation differs from the API')
    if 'work_alerts' in permissions and DESK:
        if R.check(bool(b.driver.find_elements(By.ID, 'desk')), 'no desk section for a caller with work_alerts'):
            text = f'浏览器测试评论 {int(time.time())}'
            b.driver.find_element(By.ID, 'desk-comment').send_keys(text)
            b.driver.find_element(By.ID, 'desk-comment-submit').click()
            try:
                b.wait(lambda: text in b.js("return document.getElementById('desk-events').textContent"), 15, 'the comment in the desk steps')
            except Abort as e:
                message = b.js("return document.getElementById('desk-message').textContent")
                R.check(False, f'alert desk: {e} ({message})')
            b.assert_clean('alert desk comment')
    uscc = alert['subject_id']
    b.click('#alert-enterprise-link', 'the enterprise link of the alert')
    b.page('enterprise', f'/enterprises/{uscc}', charts=3, shot='office-enterprise')
    enterprise = api(f'/v1/enterprises/{uscc}', OFFICE_KEY)
    if enterprise.get('score'):
        R.equal('enterprise score', num(b.kpi('score')), enterprise['score']['score'])
        R.equal('enterprise grade', b.kpi('grade'), enterprise['score']['grade'])
    name = (enterprise.get('registration') or {}).get('name')
    if name:
        R.check(b.js("return document.getElementById('enterprise-name').textContent") == name, 'the enterprise name differs from the API')
    division = (enterprise.get('registration') or {}).get('division')
    if division:
        b.click('#enterprise-industry-link', 'the industry link of the enterprise')
        b.page('industry (from the enterprise)', f'/industries/{division}', charts=2)
    else:
        R.notes.append(f'enterprise {uscc} has no division: the enterprise → industry link was not tested')

    # Data health: the table, the numbers, a feed's detail.
    b.go('/health')
    b.page('data health', '/health', charts=2 + len(feeds['feeds']), shot='office-health')
    R.equal('health fresh share', num(b.kpi('fresh-share')), feeds['summary']['fresh_share'])
    R.equal('health records', num(b.kpi('records')), feeds['summary']['records'])
    R.equal('health feeds', num(b.kpi('feeds')), feeds['summary']['feeds'])
    topics = b.js("return [...document.querySelectorAll('#feed-table tbody tr')].map((r) => r.dataset.topic)")
    R.equal('health feed rows', topics, [f['topic'] for f in feeds['feeds']])
    if topics:
        # Click the row (its department cell), not the link: rows are clickable.
        target = feeds['feeds'][-1]['topic']
        b.click(f'#feed-table tr[data-topic="{target}"] td:nth-child(2)', 'a feed row')
        b.page('feed detail', f'/health/{target}', charts=5 + len(feeds['feeds']), shot='office-feed')
        R.check(bool(b.driver.find_elements(By.ID, 'feed-detail')), 'the feed detail section is missing')
    return first_page


def bank(b):
    print('bank session', flush=True)
    me = api('/v1/me', BANK_KEY)
    permissions = set(me.get('permissions') or [])
    b.click('#logout', '退出 button')
    b.wait_login()
    b.assert_clean('sign-out')
    b.go('/overview')  # signing in renders the current route
    R.check(b.driver.get_cookie('cw_session') in (None,) or not b.driver.get_cookie('cw_session').get('value'), 'the session cookie survived 退出')
    b.sign_in(BANK_KEY)
    R.check(b.js("return document.getElementById('user-org').textContent") == me['organisation']['name'], 'the header does not show the bank')

    def in_portfolio(page):
        subjects = b.js("""return [...document.querySelectorAll('#view [data-uscc], #view [data-subject]')]
            .map((e) => e.dataset.uscc || e.dataset.subject)""")
        links = [h.split('/')[-1] for h in b.hrefs('#/enterprises/')]
        outside = sorted({s for s in subjects + links if s not in PORTFOLIO})
        R.check(not outside, f'{page}: shows subjects outside the bank portfolio: {outside}')
        return len(set(subjects + links))

    overview = api('/v1/stats/overview', BANK_KEY)
    urls = b.page('bank overview', '/overview', charts=8)
    R.check(not any('/v1/feeds' in u for u in urls), 'bank overview: requested /v1/feeds without read_data_health')
    R.equal('bank overview enterprises', num(b.kpi('enterprises')), overview['enterprises'])
    R.equal('bank overview active alerts', num(b.kpi('active-alerts')), overview['active_alerts']['total'])
    R.check(overview['enterprises'] <= len(PORTFOLIO), f"the bank's overview counts {overview['enterprises']} enterprises, its portfolio has {len(PORTFOLIO)}")
    R.check(not b.driver.find_elements(By.CSS_SELECTOR, '[data-kpi="fresh-share"]'), 'bank overview: shows the feeds fresh share')
    R.check(not b.driver.find_element(By.ID, 'nav-health').is_displayed(), 'the 数据质量 nav item shows for a bank')
    time.sleep(4)  # let the ticker receive live events, then check them too
    shown = in_portfolio('bank overview')
    b.screenshot('bank-overview')
    R.notes.append(f'bank overview: {shown} distinct enterprises shown, all in the portfolio')

    # Its industries (from the division links): leaders and alerts stay within the portfolio too.
    divisions = b.js("return [...document.querySelectorAll('#division-links a')].map((a) => a.dataset.division)")
    if divisions:
        b.click(f'#division-links a[data-division="{divisions[0]}"]', 'division link')
        b.page('bank industry', f'/industries/{divisions[0]}', charts=2, shot='bank-industry')
        in_portfolio('bank industry')

    b.go('/alerts')
    b.page('bank alert list', '/alerts', shot='bank-alerts')
    listing = api('/v1/alerts?limit=50', BANK_KEY)
    ids = b.js("return [...document.querySelectorAll('#alert-table tbody tr')].map((r) => Number(r.dataset.alertId))")
    R.equal('bank alert list ids', ids, [a['id'] for a in listing['items']])
    in_portfolio('bank alert list')
    rows = b.driver.find_elements(By.CSS_SELECTOR, '#alert-table tr[data-subject-kind="enterprise"]')
    if rows:
        alert_id = rows[0].get_attribute('data-alert-id')
        uscc = rows[0].get_attribute('data-subject')
        b.click('#alert-table tr[data-subject-kind="enterprise"] a.alert-link', 'enterprise alert link')
        b.page('bank alert', f'/alerts/{alert_id}', shot='bank-alert')
        R.check(not b.driver.find_elements(By.ID, 'desk') or 'work_alerts' in permissions, 'bank alert: desk actions shown without work_alerts')
        in_portfolio('bank alert')
        b.click('#alert-enterprise-link', 'the enterprise link of the alert')
        b.page('bank enterprise', f'/enterprises/{uscc}', charts=3, shot='bank-enterprise')
        in_portfolio('bank enterprise')
    else:
        R.notes.append('the bank has no enterprise alert: its alert and enterprise pages were not tested')

    # An enterprise outside the portfolio (from the office's alert list): 未找到, nothing of it.
    outsider = None
    after = None
    while outsider is None:
        page = api('/v1/alerts?limit=200' + (f'&after={after}' if after else ''), OFFICE_KEY)
        outsider = next((a['subject_id'] for a in page['items'] if a['subject_kind'] == 'enterprise' and a['subject_id'] not in PORTFOLIO), None)
        if outsider or not page['has_more']:
            break
        after = page['next_cursor']
    if outsider:
        secret = api(f'/v1/enterprises/{outsider}', OFFICE_KEY)
        b.go(f'/enterprises/{outsider}')
        b.page('bank enterprise outside the portfolio', f'/enterprises/{outsider}', allow=[(f'/v1/enterprises/{outsider}', 404)],
               shot='bank-enterprise-not-found')
        R.check('未找到' in b.js("return document.getElementById('view').textContent"), 'outside the portfolio: the page does not say 未找到')
        text = b.js('return document.body.textContent')
        name = (secret.get('registration') or {}).get('name')
        R.check(not name or name not in text, f'outside the portfolio: the page shows the enterprise name {name!r}')
        R.check(not b.driver.find_elements(By.CSS_SELECTOR, '#enterprise-name, [data-kpi="score"], #registration'), 'outside the portfolio: profile sections are shown')
    else:
        R.notes.append('every office alert is in the bank portfolio: the out-of-portfolio check was not run')

    # Data health: hidden, and the route answers 无权访问 without calling /v1/feeds.
    b.go('/health')
    urls = b.page('bank data health', '/health', shot='bank-health')
    R.check(bool(b.driver.find_elements(By.ID, 'forbidden')), 'bank data health: no 无权访问 message')
    R.check(not any('/v1/feeds' in u for u in urls), 'bank data health: /v1/feeds was requested')


def main():
    started = time.monotonic()
    b = Browser()
    try:
        for scenario in (office, bank):
            try:
                scenario(b)
            except Abort as e:
                R.check(False, f'{scenario.__name__}: {e}')
                try:
                    b.screenshot(f'{scenario.__name__}-failure')
                except WebDriverException:
                    pass
    finally:
        b.quit()
    print()
    print(f'pages ({len(R.pages)}):')
    for p in R.pages:
        print(f'  {p}')
    print(f'charts checked: {R.charts}; numbers compared with the API: {R.numbers}; screenshots: {len(R.screens)} in {SHOTS}')
    for n in R.notes:
        print(f'note: {n}')
    print(f'time: {time.monotonic() - started:.1f}s')
    if R.failures:
        print(f'\nFAILED: {len(R.failures)} check(s):')
        for f in R.failures:
            print(f'  - {f}')
        return 1
    print('\nPASSED')
    return 0


if __name__ == '__main__':
    sys.exit(main())
