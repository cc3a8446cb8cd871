// CreditWatch city dashboard (城市征信预警数据展示系统): a hash-routed single page over the /v1 API.
// Plain JavaScript, no build step; ECharts is the global `echarts`. Every text that comes from data
// is inserted with textContent (via el()), never as HTML.
'use strict';

(() => {
  // ---------------------------------------------------------------- labels

  const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'];
  const SEVERITY = { critical: '严重', high: '高', medium: '中', low: '低', info: '提示' };
  const SEVERITY_COLOR = { critical: '#ff4d4f', high: '#ff7a45', medium: '#ffc53d', low: '#40a9ff', info: '#8c8c8c' };
  const CATEGORY = {
    tax: '税务', utility: '水电', social_insurance: '社保', judicial: '司法',
    regulatory: '市场监管', lending: '信贷', industry: '行业', related: '关联',
  };
  const STATUS = { active: '生效', withdrawn: '已撤销', downgraded: '已降级' };
  const EVENT_KIND = { raised: '新增', withdrawn: '撤销', reactivated: '恢复' };
  const TAG = { leading: '龙头企业', trustworthy: '诚信企业', startup: '初创企业' };
  const CADENCE = { monthly: '按月', daily: '按日', weekly: '按周', event: '按事件', yearly: '按年', quarterly: '按季' };
  const SCOPE = { city: '全市', district: '区县', subjects: '名单企业' };
  const DESK_STATUS = { open: '待处理', acknowledged: '已确认', resolved: '已处置' };
  const DISPOSITION = { confirmed_risk: '确认风险', false_positive: '误报', no_action_needed: '无需处置' };
  const DESK_DETAIL = { text: '内容', assignee: '负责人', disposition: '结论', note: '说明', reason: '原因' };
  const DESK_ACTION = { acknowledge: '确认', assign: '指派', comment: '评论', resolve: '处置', reopen: '重新打开' };
  const MARKET_STATUS = {
    submitted: '已提交', reviewing: '审核中', approved: '已批准', rejected: '已拒绝', disbursed: '已放款',
    repaid: '已结清', withdrawn: '已撤回', written_off: '已核销', overdue: '逾期',
  };

  const USCC_RE = /^[0-9A-HJ-NPQRTUWXY]{18}$/;
  const DIVISION_RE = /^[A-T][0-9]{2}$/;
  const label = (map, key) => (key == null ? '—' : map[key] || String(key));

  // ---------------------------------------------------------------- DOM helpers

  /** An element; attrs: class, text, on<event> functions, anything else as an attribute. */
  function el(tag, attrs, ...kids) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v == null || v === false) continue;
        if (k === 'class') node.className = v;
        else if (k === 'text') node.textContent = v;
        else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
        else node.setAttribute(k, v === true ? '' : String(v));
      }
    }
    for (const kid of kids.flat(Infinity)) {
      if (kid == null || kid === false) continue;
      node.append(kid instanceof Node ? kid : String(kid)); // strings become text nodes
    }
    return node;
  }
  const $ = (sel, root = document) => root.querySelector(sel);

  function table(headers, rows, attrs) {
    const head = el('tr', null, headers.map((h) => (typeof h === 'string' ? el('th', null, h) : el('th', h.attrs, h.text))));
    return el('div', { class: 'table-wrap' }, el('table', attrs, el('thead', null, head), el('tbody', null, rows)));
  }
  const td = (content, cls) => el('td', cls ? { class: cls } : null, content);
  const num = (value, fmt = fmtInt) => el('td', { class: 'num', 'data-value': value == null ? '' : value }, value == null ? '—' : fmt(value));

  function panel(title, note, ...kids) {
    return el('section', { class: 'panel' }, el('h2', null, title, note ? el('span', { class: 'panel-note' }, note) : null), kids);
  }

  /** A KPI tile; data-value carries the raw number from the JSON so a test can compare it. */
  function kpi(key, title, value, fmt = fmtInt, note) {
    return el('div', { class: 'kpi', id: `kpi-${key}`, 'data-kpi': key, 'data-value': value == null ? '' : String(value) },
      el('div', { class: 'kpi-label' }, title),
      el('div', { class: 'kpi-value' }, value == null ? '—' : fmt(value)),
      note ? el('div', { class: 'kpi-note' }, note) : null);
  }

  const badge = (cls, text) => el('span', { class: `badge ${cls}` }, text);
  const sevBadge = (s) => badge(`sev-${s}`, label(SEVERITY, s));
  const statusBadge = (s) => badge(`st-${s}`, label(STATUS, s));

  const enterpriseHref = (uscc) => `#/enterprises/${encodeURIComponent(uscc)}`;
  const industryHref = (division) => `#/industries/${encodeURIComponent(division)}`;
  const alertHref = (id) => `#/alerts/${encodeURIComponent(id)}`;

  /** The link of an alert's subject: the enterprise, or the industry of an `industry:C17` subject. */
  function subjectLink(kind, subject) {
    if (kind === 'enterprise' || USCC_RE.test(subject || '')) {
      return el('a', { href: enterpriseHref(subject), class: 'mono subject-link', 'data-uscc': subject }, subject);
    }
    const division = String(subject || '').replace(/^industry:/, '');
    if (DIVISION_RE.test(division)) return el('a', { href: industryHref(division), class: 'subject-link', 'data-division': division }, `行业 ${division}`);
    return el('span', null, subject || '—');
  }

  // ---------------------------------------------------------------- formatting

  const fmtInt = (n) => Number(n).toLocaleString('zh-CN');
  /** A share 0…1 as a percentage: 0.28 → "28%", 0.2833 → "28.3%". */
  function fmtPct(share) {
    const pct = Math.round(Number(share) * 1000) / 10;
    return `${pct}%`;
  }
  /** Fen as 万元 for display (data-value keeps the fen). */
  const fmtWan = (fen) => `${(Number(fen) / 1e6).toLocaleString('zh-CN', { maximumFractionDigits: 2 })} 万元`;
  const fmtDays = (d) => `${Number(d).toLocaleString('zh-CN', { maximumFractionDigits: 1 })} 天`;
  const fmtTime = (iso) => (iso ? String(iso).replace('T', ' ').replace(/(\.\d+)?Z$/, ' UTC') : '—');
  function fmtValue(v) {
    if (v == null) return '—';
    if (typeof v === 'number') return Number.isInteger(v) ? fmtInt(v) : v.toLocaleString('zh-CN', { maximumFractionDigits: 4 });
    if (typeof v === 'object') return JSON.stringify(v);
    return String(v);
  }

  // ---------------------------------------------------------------- API

  class HttpError extends Error {
    constructor(status, code, message, parameter) {
      super(message);
      this.status = status;
      this.code = code;
      this.parameter = parameter;
    }
  }
  /** Thrown when the route changed while a page was loading: the result is dropped quietly. */
  class Stale extends Error {}

  /** A JSON call with the session cookie; non-GET calls carry the CSRF header. Rejects with HttpError. */
  async function api(path, { method = 'GET', body } = {}) {
    const headers = { Accept: 'application/json' };
    if (method !== 'GET') headers['X-CreditWatch-CSRF'] = '1';
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response;
    try {
      response = await fetch(path, {
        method, headers, credentials: 'same-origin', cache: 'no-store',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new HttpError(0, 'network', '无法连接服务器');
    }
    // The body is always read: Chrome reports an unread response as a cancelled request.
    let data = null;
    try {
      const text = await response.text();
      data = text ? JSON.parse(text) : null;
    } catch (e) {
      data = null;
    }
    if (!response.ok) {
      const error = (data && data.error) || {};
      throw new HttpError(response.status, error.code || String(response.status), error.message || response.statusText || '请求失败', error.parameter);
    }
    return data;
  }

  /** An optional section's data: null when forbidden (the section is hidden); 401 still signs out. */
  function optional(promise) {
    return promise.catch((e) => {
      if (e.status === 401) throw e;
      if (e.status === 403) return null;
      return { failed: e };
    });
  }
  const failed = (x) => x != null && x.failed instanceof Error;

  // ---------------------------------------------------------------- state

  const state = {
    me: null,
    token: 0, // route generation: a page drops its results once the route changed
    charts: [],
    stream: null, // the EventSource of the overview ticker
    eventCursor: null, // newest alert event id seen, so the stream does not replay history
    recentEvents: [],
    alertPager: { key: '', stack: [] },
  };
  const may = (permission) => !!(state.me && Array.isArray(state.me.permissions) && state.me.permissions.includes(permission));
  const view = () => $('#view');

  function live(token) {
    if (token !== state.token) throw new Stale();
  }

  // ---------------------------------------------------------------- charts

  const AXIS = { axisLine: { lineStyle: { color: '#3a5173' } }, axisLabel: { color: '#9fb1cc' }, splitLine: { lineStyle: { color: '#1d3150' } } };
  const TOOLTIP = { trigger: 'axis', confine: true };
  // Business dates: ticks never finer than a day (a single point would otherwise show hours).
  const TIME_AXIS = Object.assign({ type: 'time' }, AXIS, {
    splitLine: { show: false },
    minInterval: 24 * 3600 * 1000,
    axisLabel: { color: '#9fb1cc', hideOverlap: true, formatter: { year: '{yyyy}年', month: '{M}月', day: '{M}-{d}', hour: '{M}-{d}', minute: '{M}-{d}' } },
  });

  /** Appends a chart container to parent (already in the page) and renders option with the canvas renderer. */
  function chart(parent, id, name, option, cls = '') {
    const node = el('div', { class: `chart ${cls}`.trim(), id, 'data-chart': name });
    parent.append(node);
    if (!window.echarts) {
      node.append(el('div', { class: 'empty' }, '图表组件未加载'));
      return null;
    }
    const instance = window.echarts.init(node, 'dark', { renderer: 'canvas' });
    // 'finished' fires once the animation is over: tests and screenshots wait for it.
    instance.on('finished', () => { node.dataset.rendered = 'true'; });
    instance.setOption(Object.assign({ backgroundColor: 'transparent', animationDuration: 400, textStyle: { fontFamily: 'inherit' } }, option));
    state.charts.push(instance);
    return instance;
  }

  /** An option that shows only a message (an empty chart still draws something visible). */
  const emptyOption = (text = '暂无数据', small = false) => ({
    title: { text, left: 'center', top: 'middle', textStyle: { color: '#7f8da3', fontSize: small ? 11 : 14, fontWeight: 'normal' } },
  });
  const allEmpty = (values) => !values || values.every((v) => v == null || v === 0);

  function barOption(categories, series, { horizontal = false, percent = false, rotate = 0 } = {}) {
    if (!categories.length || series.every((s) => allEmpty(s.data.map((d) => (d && typeof d === 'object' ? d.value : d))))) return emptyOption();
    const cat = { type: 'category', data: categories, axisLine: AXIS.axisLine, axisLabel: { color: '#9fb1cc', rotate, interval: 0 } };
    const val = Object.assign({ type: 'value' }, AXIS, percent ? { axisLabel: { color: '#9fb1cc', formatter: (v) => fmtPct(v) } } : {});
    return {
      tooltip: Object.assign({}, TOOLTIP, percent ? { valueFormatter: (v) => fmtPct(v) } : {}),
      legend: series.length > 1 ? { top: 0, textStyle: { color: '#9fb1cc' } } : undefined,
      grid: { left: 8, right: horizontal ? 48 : 24, top: series.length > 1 ? 30 : 14, bottom: 8, containLabel: true },
      xAxis: horizontal ? val : cat,
      yAxis: horizontal ? Object.assign(cat, { inverse: true, axisLabel: { color: '#9fb1cc' } }) : val,
      series: series.map((s) => Object.assign({ type: 'bar', barMaxWidth: 28 }, s)),
    };
  }

  function pieOption(items) {
    if (allEmpty(items.map((i) => i.value))) return emptyOption();
    return {
      tooltip: { trigger: 'item', confine: true },
      legend: { orient: 'vertical', left: 0, top: 'middle', textStyle: { color: '#9fb1cc' } },
      series: [{ type: 'pie', radius: ['40%', '70%'], center: ['62%', '50%'], data: items, label: { color: '#d8e3f3', formatter: '{b}\n{c}' } }],
    };
  }

  /** A sparkline (or mini bars): no axes; all-null (bars: all-zero) data shows 暂无数据 instead of a blank canvas. */
  function sparkOption(months, values, { bars = false } = {}) {
    if (bars ? allEmpty(values) : values.every((v) => v == null)) return emptyOption('暂无数据', true);
    return {
      tooltip: { trigger: 'axis', confine: true },
      grid: { left: 2, right: 2, top: 4, bottom: 2 },
      xAxis: { type: 'category', data: months, show: false, boundaryGap: bars },
      yAxis: { type: 'value', show: false, scale: !bars },
      series: [bars
        ? { type: 'bar', data: values, itemStyle: { color: '#3aa0ff' }, barCategoryGap: '20%' }
        // Small dots: a month alone between months without records would otherwise draw nothing.
        : { type: 'line', data: values, symbol: 'circle', symbolSize: 3, connectNulls: false, itemStyle: { color: '#36cfc9' }, lineStyle: { width: 1.5, color: '#36cfc9' }, areaStyle: { opacity: 0.15, color: '#36cfc9' } }],
    };
  }

  function teardown() {
    for (const c of state.charts) c.dispose();
    state.charts = [];
    stopStream();
  }

  let resizeTimer = 0;
  function onResize() {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => state.charts.forEach((c) => c.resize()), 120);
  }

  // ---------------------------------------------------------------- banner, sign-in, header

  function showBanner(message) {
    $('#error-text').textContent = message;
    $('#error-banner').hidden = false;
  }
  function hideBanner() {
    $('#error-banner').hidden = true;
  }

  function showLogin(message) {
    state.me = null;
    state.token++;
    teardown();
    $('#nav').hidden = true;
    $('#user').hidden = true;
    const v = view();
    v.replaceChildren();
    v.dataset.route = 'login';
    v.dataset.ready = 'true';
    $('#login').hidden = false;
    const error = $('#login-error');
    error.hidden = !message;
    error.textContent = message || '';
    $('#login-key').focus();
  }

  function showApp() {
    const me = state.me;
    $('#login').hidden = true;
    $('#login-error').hidden = true;
    $('#nav').hidden = false;
    for (const a of document.querySelectorAll('#nav a[data-perm]')) a.hidden = !may(a.dataset.perm);
    $('#user').hidden = false;
    $('#user-name').textContent = me.name || '';
    $('#user-org').textContent = (me.organisation && me.organisation.name) || '';
    let scope = label(SCOPE, me.scope);
    if (me.scope === 'district' && me.district) scope += ` ${me.district}`;
    if (me.scope === 'subjects' && me.subjects != null) scope += ` ${me.subjects} 家`;
    $('#user-scope').textContent = `范围：${scope}`;
    $('#user-scope').dataset.scope = me.scope || '';
  }

  async function signIn(event) {
    event.preventDefault();
    const input = $('#login-key');
    const key = input.value.trim();
    if (!key) return;
    $('#login-submit').disabled = true;
    try {
      state.me = await api('/dashboard/session', { method: 'POST', body: { key } });
      input.value = '';
      showApp();
      renderRoute();
    } catch (e) {
      const error = $('#login-error');
      error.hidden = false;
      error.textContent = e.status === 401 ? '密钥无效、已过期或已吊销。' : `登录失败：${e.message}`;
    } finally {
      $('#login-submit').disabled = false;
    }
  }

  async function signOut() {
    stopStream();
    try {
      await api('/dashboard/session', { method: 'DELETE' });
    } catch (e) {
      if (e.status !== 401) console.warn('sign-out:', e.message);
    }
    state.eventCursor = null;
    state.recentEvents = [];
    showLogin();
  }

  // ---------------------------------------------------------------- router

  const ROUTES = [
    { re: /^\/overview$/, nav: 'overview', perm: 'read_alerts', render: renderOverview },
    { re: /^\/alerts$/, nav: 'alerts', perm: 'read_alerts', render: renderAlertList },
    { re: /^\/alerts\/([1-9][0-9]{0,17})$/, nav: 'alerts', perm: 'read_alerts', render: renderAlert },
    { re: /^\/enterprises$/, nav: 'enterprises', perm: 'read_enterprises', render: renderEnterpriseSearch },
    { re: /^\/enterprises\/([^/]+)$/, nav: 'enterprises', perm: 'read_enterprises', render: renderEnterprise },
    { re: /^\/industries$/, nav: 'industries', perm: 'read_enterprises', render: renderIndustryList },
    { re: /^\/industries\/([^/]+)$/, nav: 'industries', perm: 'read_enterprises', render: renderIndustry },
    { re: /^\/health$/, nav: 'health', perm: 'read_data_health', render: renderHealth },
    { re: /^\/health\/([A-Za-z0-9_.-]+)$/, nav: 'health', perm: 'read_data_health', render: renderHealth },
  ];

  function parseHash() {
    const raw = location.hash.replace(/^#/, '') || '/';
    const [path, search] = raw.split('?', 2);
    return { path: decodeURIComponent(path), query: new URLSearchParams(search || '') };
  }

  /** The first page the caller may see. */
  function defaultPath() {
    const home = [['read_alerts', '/overview'], ['read_enterprises', '/enterprises'], ['read_data_health', '/health']].find(([p]) => may(p));
    return home ? home[1] : '/overview';
  }

  async function renderRoute() {
    if (!state.me) return;
    let { path, query } = parseHash();
    if (path === '/' || path === '') {
      history.replaceState(null, '', `#${defaultPath()}`);
      ({ path, query } = parseHash());
    }
    const route = ROUTES.find((r) => r.re.test(path));
    const token = ++state.token;
    teardown();
    hideBanner();
    const v = view();
    v.dataset.ready = 'false';
    v.dataset.route = path;
    for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', !!route && a.dataset.nav === route.nav);
    v.replaceChildren(el('div', { class: 'loading' }, '加载中…'));
    try {
      if (!route) notFound(v, '页面不存在。');
      else if (route.perm && !may(route.perm)) forbidden(v);
      else await route.render(v, path.match(route.re).slice(1), query, token);
    } catch (e) {
      if (e instanceof Stale || token !== state.token) return;
      pageError(e, v);
    }
    if (token === state.token) v.dataset.ready = 'true';
  }

  /** 401 → sign-in; 403 → the section is hidden; 404 → 未找到; anything else → the banner. */
  function pageError(e, v) {
    if (e.status === 401) return showLogin('会话已过期，请重新登录。');
    teardown();
    if (e.status === 403) return forbidden(v);
    if (e.status === 404) return notFound(v);
    if (!(e instanceof HttpError)) console.warn(e);
    v.replaceChildren(el('div', { class: 'empty', id: 'load-failed' }, '加载失败。'));
    showBanner(`加载失败：${e.message}${e.status ? `（HTTP ${e.status}）` : ''}`);
  }

  function notFound(v, message = '所请求的内容不存在，或不在您的查看范围内。') {
    v.replaceChildren(el('div', { class: 'notfound', id: 'not-found' }, el('h2', null, '未找到'), el('p', { class: 'muted' }, message)));
  }

  function forbidden(v) {
    v.replaceChildren(el('div', { class: 'forbidden', id: 'forbidden' }, el('h2', null, '无权访问'), el('p', { class: 'muted' }, '您的账户没有查看此内容的权限。')));
  }

  // ---------------------------------------------------------------- 城市概览

  async function renderOverview(v, _params, _query, token) {
    const [ov, feeds, market, top] = await Promise.all([
      api('/v1/stats/overview'),
      may('read_data_health') ? optional(api('/v1/feeds')) : null,
      may('read_market') ? optional(api('/v1/market/stats')) : null,
      optional(api('/v1/alerts?severity=critical,high&limit=10')),
    ]);
    live(token);
    const root = el('div', { class: 'overview', 'data-as-of': ov.as_of || '' });
    v.replaceChildren(root);
    root.append(el('div', { class: 'page-head' },
      el('h1', null, '城市概览'),
      el('span', { class: 'muted', id: 'overview-as-of' }, ov.as_of ? `数据截至 ${ov.as_of}` : '尚无数据'),
      el('span', { class: 'muted' }, `范围：${label(SCOPE, ov.scope)}`)));

    const active = ov.active_alerts || {};
    const tiles = el('div', { class: 'kpis', id: 'overview-kpis' },
      kpi('enterprises', '覆盖企业', ov.enterprises),
      kpi('scored', '已评分企业', ov.scored),
      kpi('active-alerts', '生效预警', active.total),
      kpi('alerted-enterprises', '预警企业', active.enterprises));
    if (feeds && !failed(feeds) && feeds.summary) {
      const s = feeds.summary;
      tiles.append(
        kpi('records', '入库记录', s.records),
        kpi('fresh-share', '数据源更新及时率', s.fresh_share, fmtPct, `${fmtInt(s.fresh)} / ${fmtInt(s.feeds)} 个数据源及时`),
        kpi('key-coverage', '关键字段覆盖率', s.key_coverage, fmtPct));
    }
    root.append(tiles);
    if (failed(feeds)) showBanner(`数据质量数据加载失败：${feeds.failed.message}`);

    // Row 1: severity, category, months.
    const row1 = el('div', { class: 'grid grid-3' });
    const pSeverity = panel('生效预警 · 按严重程度');
    const pCategory = panel('生效预警 · 按类别');
    const pMonths = panel('预警新增 / 撤销', '近 24 个月');
    row1.append(pSeverity, pCategory, pMonths);
    root.append(row1);
    const bySeverity = new Map((active.by_severity || []).map((s) => [s.severity, s.count]));
    chart(pSeverity, 'chart-severity', 'alerts-by-severity', pieOption(SEVERITIES.map((s) => ({
      name: SEVERITY[s], value: bySeverity.get(s) || 0, itemStyle: { color: SEVERITY_COLOR[s] },
    }))));
    const cats = active.by_category || [];
    chart(pCategory, 'chart-category', 'alerts-by-category', barOption(cats.map((c) => label(CATEGORY, c.category)), [
      { name: '生效预警', data: cats.map((c) => c.count), itemStyle: { color: '#3aa0ff' } }]));
    const months = ov.alerts_by_month || [];
    chart(pMonths, 'chart-months', 'alerts-by-month', barOption(months.map((m) => m.month), [
      { name: '新增', data: months.map((m) => m.raised), itemStyle: { color: '#ff7a45' } },
      { name: '撤销', data: months.map((m) => m.withdrawn), itemStyle: { color: '#36cfc9' } }], { rotate: 45 }));

    // Row 2: districts and divisions.
    const row2 = el('div', { class: 'grid grid-2' });
    const pDistrict = panel('各区县预警');
    const pDivision = panel('行业预警占比', '前 12 个行业大类 · 点击进入行业监测');
    row2.append(pDistrict, pDivision);
    root.append(row2);
    const districts = ov.by_district || [];
    chart(pDistrict, 'chart-district', 'alerts-by-district', barOption(districts.map((d) => d.district), [
      { name: '生效预警', data: districts.map((d) => d.active_alerts), itemStyle: { color: '#ff7a45' } },
      { name: '高风险企业', data: districts.map((d) => d.alerted), itemStyle: { color: '#ff4d4f' } }]));
    const divisions = (ov.by_division || []).slice(0, 12);
    const divisionChart = chart(pDivision, 'chart-division', 'alerts-by-division', barOption(divisions.map((d) => d.division), [
      { name: '预警企业占比', data: divisions.map((d) => d.alerted_share), itemStyle: { color: '#ff4d4f' },
        label: { show: true, position: 'right', color: '#d8e3f3', formatter: (p) => fmtPct(p.value) } }], { horizontal: true, percent: true }));
    if (divisionChart) {
      divisionChart.on('click', (p) => {
        const division = divisions[p.dataIndex] && divisions[p.dataIndex].division;
        if (division) location.hash = industryHref(division);
      });
    }
    // A plain link list too: easier to use with a keyboard (and to click in a test).
    pDivision.append(el('div', { class: 'links', id: 'division-links' }, divisions.map((d) =>
      el('a', { href: industryHref(d.division), 'data-division': d.division }, `${d.division} · ${fmtPct(d.alerted_share)}（${fmtInt(d.alerted)}/${fmtInt(d.enterprises)}）`))));

    // Row 3: grades and the quality-enterprise library.
    const row3 = el('div', { class: 'grid grid-2' });
    const pGrades = panel('信用等级分布');
    const pTags = panel('优质企业库');
    row3.append(pGrades, pTags);
    root.append(row3);
    const grades = ov.grades || [];
    chart(pGrades, 'chart-grades', 'grades', barOption(grades.map((g) => g.grade), [{ name: '企业数', data: grades.map((g) => g.count), itemStyle: { color: '#36cfc9' } }]), 'short');
    const tags = ov.tags || [];
    chart(pTags, 'chart-tags', 'tags', barOption(tags.map((t) => label(TAG, t.tag)), [{ name: '企业数', data: tags.map((t) => t.count), itemStyle: { color: '#9254de' } }]), 'short');

    // Row 4: the marketplace.
    if (market && !failed(market)) marketSection(root, market);
    else if (failed(market)) root.append(panel('银企融资', null, el('div', { class: 'empty' }, `融资数据暂不可用：${market.failed.message}`)));

    // Row 5: top risks and the live ticker.
    const row5 = el('div', { class: 'grid grid-2' });
    const pTop = panel('重点预警', '严重 / 高 · 按编号前 10 条');
    const pLive = panel('实时预警动态', null);
    row5.append(pTop, pLive);
    root.append(row5);
    if (top && !failed(top)) {
      pTop.append(alertTable(top.items || [], 'top-alerts', { compact: true }),
        el('div', { class: 'links' }, el('a', { href: '#/alerts?severity=critical%2Chigh' }, '查看全部严重 / 高预警')));
    }
    else pTop.append(el('div', { class: 'empty' }, '暂不可用'));
    const liveState = el('span', { class: 'live-state', id: 'live-state' }, '连接中…');
    pLive.querySelector('h2').append(liveState);
    const list = el('ul', { class: 'ticker', id: 'ticker' });
    pLive.append(list);
    startTicker(list, liveState, token); // not awaited: the page is ready without it
  }

  function marketSection(parent, m) {
    const section = panel('银企融资', m.from && m.to ? `${m.from} 至 ${m.to}` : null);
    section.id = 'market';
    const tiles = el('div', { class: 'kpis' },
      kpi('market-products', '在架产品', m.published_products),
      kpi('market-needs', '融资需求', m.needs),
      kpi('market-claim-rate', '需求对接率', m.claim_rate, fmtPct),
      kpi('market-applications', '贷款申请', m.applications),
      kpi('market-approval-rate', '审批通过率', m.approval_rate, fmtPct),
      kpi('market-disbursed', '累计放款', m.disbursed_fen, fmtWan),
      kpi('market-outstanding', '贷款余额', m.outstanding_fen, fmtWan),
      kpi('market-npl-ratio', '不良率', m.non_performing_ratio, fmtPct),
      kpi('market-borrowers', '获贷企业', m.borrowers),
      kpi('market-first-time', '首贷企业', m.first_time_borrowers),
      kpi('market-days-to-disbursement', '放款时长中位数', m.median_days_to_disbursement, fmtDays));
    const grid = el('div', { class: 'grid grid-wide' }, tiles);
    const pie = el('div');
    grid.append(pie);
    section.append(grid);
    parent.append(section); // before the chart: ECharts needs the container's size
    const byStatus = Object.entries(m.applications_by_status || {});
    chart(pie, 'chart-market-status', 'market-applications-by-status', pieOption(byStatus.map(([k, n]) => ({ name: label(MARKET_STATUS, k), value: n }))), 'short');
  }

  // The ticker: the newest events first, then the stream from the newest event id on.
  async function startTicker(list, stateNode, token) {
    const setState = (text, on) => { stateNode.textContent = text; stateNode.classList.toggle('on', !!on); };
    if (!window.EventSource) return setState('浏览器不支持实时推送');
    try {
      if (state.eventCursor == null) {
        const data = await api('/v1/alerts/events?latest=true&limit=8');
        live(token);
        state.eventCursor = Number(data.next_cursor || 0);
        state.recentEvents = (data.items || []).slice().reverse();
      }
    } catch (e) {
      if (e instanceof Stale) return;
      if (e.status === 401) return showLogin('会话已过期，请重新登录。');
      return setState(e.status === 403 ? '无权订阅' : '实时推送不可用');
    }
    if (token !== state.token) return;
    for (const event of state.recentEvents) list.append(tickerItem(event, false));
    if (!state.recentEvents.length) list.append(el('li', { class: 'past empty-note' }, '暂无预警动态'));
    const source = new EventSource(`/v1/alerts/stream?after=${encodeURIComponent(state.eventCursor)}`);
    state.stream = source;
    const onEvent = (message) => {
      let event;
      try { event = JSON.parse(message.data); } catch (e) { return; }
      if (message.lastEventId) state.eventCursor = Number(message.lastEventId);
      state.recentEvents = [event].concat(state.recentEvents).slice(0, 8);
      const empty = list.querySelector('.empty-note');
      if (empty) empty.remove();
      list.prepend(tickerItem(event, true));
      while (list.children.length > 50) list.lastElementChild.remove();
    };
    for (const kind of ['raised', 'withdrawn', 'reactivated', 'message']) source.addEventListener(kind, onEvent);
    source.addEventListener('open', () => setState('● 实时', true));
    // Errors are expected (the server ends a stream after its lifetime; EventSource reconnects).
    source.addEventListener('error', () => setState(source.readyState === EventSource.CLOSED ? '实时推送已断开' : '重新连接中…', false));
  }

  function stopStream() {
    if (state.stream) {
      state.stream.close();
      state.stream = null;
    }
  }

  function tickerItem(e, isNew) {
    return el('li', { class: isNew ? 'new' : 'past', 'data-event-id': e.id, 'data-subject': e.subject_id },
      el('span', { class: 'when' }, e.as_of || ''),
      sevBadge(e.severity),
      el('span', { class: 'kind' }, label(EVENT_KIND, e.kind)),
      el('span', { class: 'title' }, el('a', { href: alertHref(e.alert_id) }, e.title || e.rule || '预警')),
      subjectLink(USCC_RE.test(e.subject_id || '') ? 'enterprise' : 'industry', e.subject_id));
  }

  // ---------------------------------------------------------------- 预警列表

  function alertTable(items, id, { compact = false } = {}) {
    if (!items.length) return el('div', { class: 'empty', id: `${id}-empty` }, '暂无预警');
    const headers = compact ? ['标题', '级别', '主体', '日期', '状态'] : ['编号', '标题', '级别', '类别', '主体', '行业', '区县', '数据日期', '状态'];
    const rows = items.map((a) => {
      const division = a.division ? el('a', { href: industryHref(a.division), class: 'industry-link' }, a.division) : '—';
      const title = el('a', { href: alertHref(a.id), class: 'alert-link' }, a.title || a.rule);
      const attrs = { 'data-alert-id': a.id, 'data-subject-kind': a.subject_kind, 'data-subject': a.subject_id };
      if (compact) return el('tr', attrs, td(title), td(sevBadge(a.severity)), td(subjectLink(a.subject_kind, a.subject_id)), td(a.as_of), td(statusBadge(a.status)));
      return el('tr', attrs,
        td(el('a', { href: alertHref(a.id) }, `#${a.id}`)), td(title), td(sevBadge(a.severity)), td(label(CATEGORY, a.category)),
        td(subjectLink(a.subject_kind, a.subject_id)), td(division), td(a.district || '—'), td(a.as_of), td(statusBadge(a.status)));
    });
    return table(headers, rows, { id, class: 'alerts' });
  }

  function alertQuery(filters, after) {
    const q = new URLSearchParams();
    if (filters.severity.length) q.set('severity', filters.severity.join(','));
    if (filters.category) q.set('category', filters.category);
    if (filters.industry) q.set('industry', filters.industry);
    if (after) q.set('after', after);
    return q.toString();
  }

  async function renderAlertList(v, _params, query, token) {
    const filters = {
      severity: (query.get('severity') || '').split(',').filter((s) => SEVERITIES.includes(s)),
      category: CATEGORY[query.get('category')] ? query.get('category') : '',
      industry: DIVISION_RE.test(query.get('industry') || '') ? query.get('industry') : '',
    };
    const after = /^[0-9]+$/.test(query.get('after') || '') ? query.get('after') : '';
    const filterKey = alertQuery(filters, '');
    if (state.alertPager.key !== filterKey) state.alertPager = { key: filterKey, stack: [] };
    if (!after) state.alertPager.stack = [];
    const apiQuery = alertQuery(filters, after);
    const page = await api(`/v1/alerts?${apiQuery}${apiQuery ? '&' : ''}limit=50`);
    live(token);

    const root = el('div', { class: 'alert-list' });
    v.replaceChildren(root);
    root.append(el('div', { class: 'page-head' }, el('h1', null, '预警列表'),
      el('span', { class: 'muted' }, `第 ${state.alertPager.stack.length + 1} 页`)));

    const form = el('form', { class: 'filters panel', id: 'alert-filters' });
    const sevSet = el('fieldset', null, el('legend', null, '严重程度'), SEVERITIES.map((s) =>
      el('label', null, el('input', { type: 'checkbox', name: 'severity', value: s, checked: filters.severity.includes(s) }), SEVERITY[s])));
    const catSelect = el('select', { name: 'category', id: 'filter-category' }, el('option', { value: '' }, '全部类别'),
      Object.entries(CATEGORY).map(([k, t]) => el('option', { value: k, selected: filters.category === k }, t)));
    const industryInput = el('input', { name: 'industry', id: 'filter-industry', placeholder: '行业大类，如 C17', value: filters.industry, size: 14, pattern: '[A-Ta-t][0-9]{2}' });
    form.append(sevSet, el('label', null, '类别 ', catSelect), el('label', null, '行业 ', industryInput),
      el('button', { type: 'submit', class: 'primary' }, '筛选'), el('button', { type: 'button', id: 'filter-reset' }, '重置'));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const next = {
        severity: [...form.querySelectorAll('input[name=severity]:checked')].map((i) => i.value),
        category: catSelect.value,
        industry: industryInput.value.trim().toUpperCase(),
      };
      if (next.industry && !DIVISION_RE.test(next.industry)) {
        showBanner('行业大类代码应为门类字母加两位数字，如 C17。');
        return;
      }
      location.hash = `#/alerts?${alertQuery(next, '')}`;
    });
    $('#filter-reset', form).addEventListener('click', () => { location.hash = '#/alerts'; });
    root.append(form);

    root.append(el('section', { class: 'panel' }, alertTable(page.items || [], 'alert-table')));
    const prev = el('button', { type: 'button', id: 'alerts-prev', disabled: !after }, '上一页');
    const next = el('button', { type: 'button', id: 'alerts-next', disabled: !(page.has_more && page.next_cursor != null) }, '下一页');
    prev.addEventListener('click', () => {
      const back = state.alertPager.stack.pop() || '';
      location.hash = `#/alerts?${alertQuery(filters, back)}`;
    });
    next.addEventListener('click', () => {
      state.alertPager.stack.push(after);
      location.hash = `#/alerts?${alertQuery(filters, String(page.next_cursor))}`;
    });
    root.append(el('div', { class: 'pager' }, prev, next, el('span', { class: 'muted' }, `本页 ${(page.items || []).length} 条`)));
  }

  // ---------------------------------------------------------------- 预警详情

  async function renderAlert(v, [id], _query, token) {
    const [alert, desk] = await Promise.all([
      api(`/v1/alerts/${id}`),
      may('work_alerts') ? optional(api(`/v1/desk/alerts/${id}`)) : null,
    ]);
    live(token);
    const root = el('div', { class: 'alert-page', 'data-alert-id': alert.id });
    v.replaceChildren(root);
    root.append(el('div', { class: 'page-head' },
      el('h1', { id: 'alert-title' }, alert.title || alert.rule), sevBadge(alert.severity), statusBadge(alert.status)));

    const division = alert.division || (String(alert.subject_id || '').startsWith('industry:') ? alert.subject_id.slice(9) : null);
    const facts = el('dl', { class: 'facts' },
      el('dt', null, '编号'), el('dd', null, `#${alert.id}`),
      el('dt', null, '主体'), el('dd', null, alert.subject_kind === 'enterprise'
        ? el('a', { href: enterpriseHref(alert.subject_id), id: 'alert-enterprise-link', class: 'mono', 'data-uscc': alert.subject_id }, `企业 ${alert.subject_id}`)
        : subjectLink(alert.subject_kind, alert.subject_id)),
      el('dt', null, '行业'), el('dd', null, division && DIVISION_RE.test(division)
        ? el('a', { href: industryHref(division), id: 'alert-industry-link', 'data-division': division }, `行业大类 ${division}`) : '—'),
      el('dt', null, '区县'), el('dd', null, alert.district || '—'),
      el('dt', null, '类别'), el('dd', null, label(CATEGORY, alert.category)),
      el('dt', null, '数据日期'), el('dd', null, alert.as_of || '—'),
      el('dt', null, '统计窗口'), el('dd', null, alert.window || '—'),
      el('dt', null, '规则'), el('dd', { class: 'mono' }, `${alert.rule} · ${alert.rule_version || ''}`),
      el('dt', null, '规则集版本'), el('dd', { class: 'mono' }, alert.rule_set_version || '—'),
      el('dt', null, '处理时间'), el('dd', null, fmtTime(alert.processed_at)),
      el('dt', null, '评分影响'), el('dd', null, alert.score ? `${alert.score.points > 0 ? '+' : ''}${alert.score.points} 分（${alert.score.dimension}）` : '—'));
    const grid = el('div', { class: 'grid grid-2' });
    grid.append(panel('预警信息', null, facts),
      panel('说明', null, el('div', { class: 'explanation', id: 'alert-explanation' }, alert.explanation || '—')));
    root.append(grid);

    const values = alert.values || [];
    const grid2 = el('div', { class: 'grid grid-2' });
    grid2.append(panel('触发数值', null, values.length
      ? table(['指标', '数值'], values.map((x) => el('tr', null, td(x.name, 'mono'), el('td', { class: 'num' }, fmtValue(x.value)))), { id: 'alert-values' })
      : el('div', { class: 'empty' }, '无')),
    panel('数据来源', null, (alert.sources || []).length
      ? el('ul', { id: 'alert-sources', class: 'mono' }, alert.sources.map((s) => el('li', null, s)))
      : el('div', { class: 'empty' }, '无')));
    root.append(grid2);

    if (alert.withdrawal) {
      const w = alert.withdrawal;
      root.append(panel('撤销 / 降级', null, el('dl', { class: 'facts', id: 'alert-withdrawal' },
        el('dt', null, '日期'), el('dd', null, w.as_of || '—'),
        el('dt', null, '原因'), el('dd', null, w.reason || '—'),
        el('dt', null, '规则集版本'), el('dd', { class: 'mono' }, w.rule_set_version || '—'))));
    }
    if (desk && !failed(desk)) root.append(deskSection(alert.id, desk));
    else if (failed(desk) && desk.failed.status !== 404) root.append(panel('预警处置', null, el('div', { class: 'empty' }, `处置台暂不可用：${desk.failed.message}`)));
  }

  /** The desk: state, steps and actions (work_alerts). Every step is a POST with the CSRF header. */
  function deskSection(alertId, initial) {
    const section = panel('预警处置');
    section.id = 'desk';
    const status = el('dl', { class: 'facts', id: 'desk-state' });
    const events = el('div', { id: 'desk-events' });
    const message = el('div', { class: 'desk-message', id: 'desk-message' });
    let current = initial.desk;

    const draw = (desk, steps) => {
      current = desk;
      status.replaceChildren(
        el('dt', null, '状态'), el('dd', { 'data-status': desk.status }, label(DESK_STATUS, desk.status)),
        el('dt', null, '负责人'), el('dd', null, desk.assignee || '—'),
        el('dt', null, '处置结论'), el('dd', null, desk.disposition ? label(DISPOSITION, desk.disposition) : '—'),
        el('dt', null, '版本'), el('dd', null, String(desk.version)));
      if (steps) {
        events.replaceChildren(steps.length
          ? table(['时间', '操作人', '机构', '操作', '内容'], steps.map((s) => el('tr', { 'data-action': s.action },
            td(fmtTime(s.at)), td(s.actor), td(s.organisation), td(label(DESK_ACTION, s.action)),
            td(Object.entries(s.detail || {}).map(([k, x]) => `${label(DESK_DETAIL, k)}：${k === 'disposition' ? label(DISPOSITION, x) : x}`).join('；') || '—'))))
          : el('div', { class: 'empty' }, '暂无处置记录'));
      }
      for (const [name, node] of Object.entries(buttons)) node.disabled = !allowed(name, desk.status);
    };
    const allowed = (action, s) => ({
      acknowledge: s === 'open', assign: s !== 'resolved', comment: true, resolve: s !== 'resolved', reopen: s === 'resolved',
    })[action];

    const assignee = el('input', { id: 'desk-assignee', placeholder: '负责人姓名', maxlength: 100 });
    const comment = el('textarea', { id: 'desk-comment', rows: 2, placeholder: '评论内容', maxlength: 2000 });
    const disposition = el('select', { id: 'desk-disposition' }, Object.entries(DISPOSITION).map(([k, t]) => el('option', { value: k }, t)));
    const note = el('input', { id: 'desk-note', placeholder: '处置说明（可选）', maxlength: 2000 });
    const reason = el('input', { id: 'desk-reason', placeholder: '重新打开的原因', maxlength: 2000 });
    const buttons = {
      acknowledge: el('button', { type: 'button', id: 'desk-acknowledge', class: 'primary' }, '确认'),
      assign: el('button', { type: 'button', id: 'desk-assign' }, '指派'),
      comment: el('button', { type: 'button', id: 'desk-comment-submit' }, '评论'),
      resolve: el('button', { type: 'button', id: 'desk-resolve' }, '处置'),
      reopen: el('button', { type: 'button', id: 'desk-reopen' }, '重新打开'),
    };
    const bodies = {
      acknowledge: () => ({}),
      assign: () => (assignee.value.trim() ? { assignee: assignee.value.trim() } : null),
      comment: () => (comment.value.trim() ? { text: comment.value } : null),
      resolve: () => ({ disposition: disposition.value, note: note.value }),
      reopen: () => (reason.value.trim() ? { reason: reason.value } : null),
    };

    const refresh = async () => {
      const fresh = await api(`/v1/desk/alerts/${alertId}`);
      draw(fresh.desk, fresh.events || []);
    };
    for (const [action, button] of Object.entries(buttons)) {
      button.addEventListener('click', async () => {
        const extra = bodies[action]();
        if (!extra) {
          message.className = 'desk-message error';
          message.textContent = '请先填写内容。';
          return;
        }
        button.disabled = true;
        try {
          await api(`/v1/desk/alerts/${alertId}/actions`, { method: 'POST', body: Object.assign({ action, version: current.version }, extra) });
          message.className = 'desk-message';
          message.textContent = `已${DESK_ACTION[action]}。`;
          if (action === 'comment') comment.value = '';
          await refresh();
        } catch (e) {
          if (e.status === 401) return showLogin('会话已过期，请重新登录。');
          message.className = 'desk-message error';
          message.textContent = e.status === 409 ? `状态已变化：${e.message}` : `操作失败：${e.message}`;
          try { await refresh(); } catch (ignored) { /* the message says enough */ }
        }
      });
    }

    section.append(el('div', { class: 'grid grid-2' },
      el('div', null, status, el('h3', { class: 'muted' }, '处置记录'), events),
      el('div', { class: 'desk-actions', id: 'desk-actions' },
        el('div', { class: 'desk-row' }, buttons.acknowledge),
        el('div', { class: 'desk-row' }, assignee, buttons.assign),
        el('div', { class: 'desk-row' }, comment, buttons.comment),
        el('div', { class: 'desk-row' }, disposition, note, buttons.resolve),
        el('div', { class: 'desk-row' }, reason, buttons.reopen),
        message)));
    draw(initial.desk, initial.events || []);
    return section;
  }

  // ---------------------------------------------------------------- 企业画像

  async function renderEnterpriseSearch(v) {
    const input = el('input', { id: 'enterprise-search', placeholder: '统一社会信用代码（18 位）', maxlength: 18, spellcheck: 'false' });
    const form = el('form', { class: 'search' }, input, el('button', { type: 'submit', class: 'primary' }, '查看企业画像'));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const uscc = input.value.trim().toUpperCase();
      if (!USCC_RE.test(uscc)) return showBanner('统一社会信用代码应为 18 位数字或大写字母（不含 I、O、Z、S、V）。');
      location.hash = enterpriseHref(uscc);
    });
    v.replaceChildren(el('div', { class: 'page-head' }, el('h1', null, '企业画像')), panel('查找企业', null, form));
  }

  async function renderEnterprise(v, [uscc], _query, token) {
    if (!USCC_RE.test(uscc)) return notFound(v, '统一社会信用代码格式不正确。');
    const [ent, series] = await Promise.all([
      api(`/v1/enterprises/${uscc}`),
      optional(api(`/v1/enterprises/${uscc}/series`)),
    ]);
    live(token);
    const reg = ent.registration || {};
    const score = ent.score;
    const root = el('div', { class: 'enterprise-page', 'data-uscc': ent.uscc });
    v.replaceChildren(root);
    root.append(el('div', { class: 'page-head' },
      el('h1', { id: 'enterprise-name' }, reg.name || ent.uscc),
      el('span', { class: 'mono muted' }, ent.uscc),
      reg.division && DIVISION_RE.test(reg.division)
        ? el('a', { href: industryHref(reg.division), id: 'enterprise-industry-link', 'data-division': reg.division }, `行业监测：${reg.division}`) : null));

    root.append(el('div', { class: 'kpis' },
      kpi('score', '信用评分', score ? score.score : null, String, score ? `评分日 ${score.as_of}` : '暂无评分'),
      kpi('grade', '信用等级', score ? score.grade : null, String, score ? `规则集 ${score.rule_set_version}` : null),
      kpi('base', '基础分', score && score.explanation ? score.explanation.base : null)));

    // Registration and tags.
    const row1 = el('div', { class: 'grid grid-2' });
    row1.append(panel('登记信息', null, el('dl', { class: 'facts', id: 'registration' },
      el('dt', null, '企业名称'), el('dd', null, reg.name || '—'),
      el('dt', null, '统一社会信用代码'), el('dd', { class: 'mono' }, ent.uscc),
      el('dt', null, '行业代码'), el('dd', null, reg.industry_code || '—'),
      el('dt', null, '行业大类'), el('dd', null, reg.division || '—'),
      el('dt', null, '区县'), el('dd', null, reg.district || '—'),
      el('dt', null, '登记状态'), el('dd', null, reg.status || '—'),
      el('dt', null, '已注销/删除'), el('dd', null, reg.deleted ? '是' : '否'))));
    const tagPanel = panel('优质企业库标签');
    const current = (ent.tags && ent.tags.current) || [];
    tagPanel.append(current.length
      ? el('div', { id: 'enterprise-tags' }, current.map((t) => el('div', null,
        el('span', { class: 'tag', 'data-tag': t.tag }, t.title || label(TAG, t.tag)),
        el('span', { class: 'muted' }, `自 ${t.since} · ${t.explanation || ''}`))))
      : el('div', { class: 'empty' }, '暂无标签'));
    const tagHistory = (ent.tags && ent.tags.history) || [];
    if (tagHistory.length) {
      tagPanel.append(el('details', null, el('summary', null, `标签变动（${tagHistory.length}）`),
        table(['标签', '变动', '日期'], tagHistory.map((h) => el('tr', null, td(label(TAG, h.tag)), td(h.change === 'added' ? '加入' : h.change === 'removed' ? '移出' : h.change), td(h.as_of))))));
    }
    row1.append(tagPanel);
    root.append(row1);

    // Score: waterfall by dimension and history.
    const row2 = el('div', { class: 'grid grid-wide' });
    const pWaterfall = panel('评分构成', score ? `基础分 + 各维度得分 = ${score.score} 分（${score.grade}）` : null);
    const pHistory = panel('评分历史');
    row2.append(pWaterfall, pHistory);
    root.append(row2);
    chart(pWaterfall, 'chart-score-waterfall', 'score-waterfall', score && score.explanation ? waterfallOption(score) : emptyOption('暂无评分'));
    if (score && score.explanation && Array.isArray(score.explanation.lines) && score.explanation.lines.length) {
      const titles = new Map((score.explanation.dimensions || []).map((d) => [d.name, d.title]));
      pWaterfall.append(el('details', null, el('summary', null, `评分明细（${score.explanation.lines.length} 项）`),
        table(['维度', '说明', { text: '分值', attrs: { class: 'num' } }], score.explanation.lines.map((l) => el('tr', null,
          td(l.dimension ? titles.get(l.dimension) || l.dimension : '总分调整'), td(l.text), num(l.points, signed))), { id: 'score-lines' })));
    }
    chart(pHistory, 'chart-score-history', 'score-history', scoreHistoryOption(score));

    // Series sparklines.
    const pSeries = panel('部门数据月度序列', series && !failed(series) && series.months && series.months.length ? `${series.months[0]} 至 ${series.months[series.months.length - 1]}` : null);
    root.append(pSeries);
    if (series && !failed(series) && (series.series || []).length) {
      const grid = el('div', { class: 'grid grid-3', id: 'series-grid' });
      pSeries.append(grid);
      series.series.forEach((s, i) => {
        const values = s.values || [];
        const last = [...values].reverse().find((x) => x != null);
        const cell = el('div', { class: 'spark-cell', 'data-series': s.series },
          el('div', null, el('span', { class: 'mono' }, s.series), el('span', { class: 'muted' }, last == null ? '' : `  最近 ${fmtValue(last)}`)));
        grid.append(cell);
        chart(cell, `spark-${i}`, `series:${s.series}`, sparkOption(series.months, values), 'spark');
      });
    } else {
      pSeries.append(el('div', { class: 'empty' }, failed(series) ? `序列暂不可用：${series.failed.message}` : '暂无序列数据'));
    }

    // Alerts on a timeline, and as a list.
    const pAlerts = panel('预警时间线');
    root.append(pAlerts);
    const alerts = ent.alerts || [];
    const timeline = chart(pAlerts, 'chart-alert-timeline', 'alert-timeline', timelineOption(alerts), 'short');
    if (timeline) timeline.on('click', (p) => { if (p.data && p.data.id) location.hash = alertHref(p.data.id); });
    pAlerts.append(alertTable(alerts, 'enterprise-alerts'));

    // Relations: the legal representative, shareholders, sister enterprises (two steps).
    const graph = ent.relations;
    if (graph && Array.isArray(graph.nodes)) {
      const pRelations = panel('关联关系', graph.truncated ? '关联方较多，仅显示部分' : '法定代表人、股东及两步以内的关联企业');
      root.append(pRelations);
      if (graph.nodes.length > 1) {
        const chartView = chart(pRelations, 'chart-relations', 'relations', relationOption(graph));
        if (chartView) {
          chartView.on('click', (p) => {
            const node = p.dataType === 'node' && graph.nodes[p.dataIndex];
            if (node && node.kind === 'enterprise' && node.depth > 0) location.hash = `#/enterprises/${node.id}`;
          });
        }
        pRelations.append(table(['关系', '一方', '另一方', '依据', '日期'], (graph.links || []).map((l) => {
          const from = graph.nodes[l.from] || {};
          const to = graph.nodes[l.to] || {};
          const ratio = l.figures && l.figures.share_ratio != null ? `（持股 ${fmtPct(l.figures.share_ratio)}）` : '';
          return el('tr', { 'data-relation': l.relation }, td(label(RELATION, l.relation) + ratio), td(nodeName(from)), td(nodeName(to)),
            td(l.source, 'mono'), td(l.day));
        }), { id: 'relations-table' }));
      } else {
        pRelations.append(el('div', { class: 'empty' }, '暂无关联方记录'));
      }
    }

    // Department facts and current features.
    const facts = ent.facts || [];
    const rows = [];
    for (const dept of facts) {
      for (const topic of dept.topics || []) {
        const records = topic.records || [];
        const latest = records.reduce((best, r) => (!best || String(r.event_day || '') > String(best.event_day || '') ? r : best), null);
        rows.push(el('tr', { 'data-topic': topic.topic }, td(dept.department), td(topic.topic, 'mono'), num(records.length),
          td(latest ? latest.event_day || '—' : '—'),
          td(latest && latest.fields ? Object.entries(latest.fields).map(([k, x]) => `${k}: ${fmtValue(x)}`).join('；') : '—')));
      }
    }
    const pFacts = panel('部门登记事实', '每个主题的最新一条记录');
    pFacts.append(rows.length ? table(['部门', '主题', { text: '记录数', attrs: { class: 'num' } }, '最新日期', '最新记录'], rows, { id: 'facts-table' }) : el('div', { class: 'empty' }, '暂无部门数据'));
    if (Array.isArray(ent.features) && ent.features.length) {
      pFacts.append(el('details', null, el('summary', null, `当前特征（${ent.features.length}）`),
        table(['特征', '值'], ent.features.map((f) => el('tr', null, td(f.name, 'mono'), el('td', { class: 'num' }, fmtValue(f.value)))), { id: 'features-table' })));
    }
    root.append(pFacts);
  }

  const signed = (n) => (n > 0 ? `+${n}` : String(n));

  const RELATION = { legal_representative: '法定代表人', shareholder: '股东' };
  const nodeName = (n) => (n.name ? `${n.name}（${n.id}）` : n.id || '—');

  /** The relation graph: the enterprise at the centre, persons and enterprises around it. */
  function relationOption(graph) {
    const colors = { enterprise: '#40a9ff', person: '#ffc53d' };
    return {
      tooltip: { formatter: (p) => escapeHtml(p.dataType === 'node' ? nodeName(graph.nodes[p.dataIndex]) : label(RELATION, p.data.relation)) },
      series: [{
        type: 'graph', layout: 'force', roam: true, draggable: true, force: { repulsion: 220, edgeLength: 90 },
        label: { show: true, color: '#d8e3f3', formatter: (p) => graph.nodes[p.dataIndex].name || graph.nodes[p.dataIndex].id },
        edgeSymbol: ['none', 'arrow'],
        data: graph.nodes.map((n) => ({ name: `${n.kind}:${n.id}`, symbolSize: n.depth === 0 ? 34 : 22, itemStyle: { color: n.depth === 0 ? '#ff7a45' : colors[n.kind] } })),
        links: (graph.links || []).map((l) => ({ source: l.from, target: l.to, relation: l.relation, lineStyle: { color: '#8c8c8c' } })),
      }],
    };
  }

  /** Base, each dimension's points, then range and override adjustments: the bars end at the score. */
  function waterfallOption(score) {
    const x = score.explanation;
    const steps = [];
    for (const d of x.dimensions || []) steps.push({ name: d.title || d.name, delta: Number(d.points) || 0 });
    for (const line of x.lines || []) {
      if (line.dimension) continue; // dimension lines are inside the dimensions' points
      steps.push({ name: line.kind === 'range' ? '范围调整' : line.kind === 'override' ? `等级${line.points < 0 ? '封顶' : '保底'}` : line.name, delta: Number(line.points) || 0 });
    }
    const names = ['基础分'];
    const helper = [0];
    const bars = [{ value: x.base, itemStyle: { color: '#3aa0ff' }, delta: x.base }];
    let run = Number(x.base) || 0;
    for (const s of steps) {
      const end = run + s.delta;
      names.push(s.name);
      helper.push(Math.min(run, end));
      bars.push({ value: Math.abs(s.delta), delta: s.delta, itemStyle: { color: s.delta >= 0 ? '#36cfc9' : '#ff4d4f' } });
      run = end;
    }
    names.push('总分');
    helper.push(0);
    bars.push({ value: score.score, delta: score.score, itemStyle: { color: '#9254de' } });
    return {
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, confine: true,
        formatter: (ps) => { const p = ps.find((q) => q.seriesIndex === 1); return p ? `${escapeHtml(p.name)}：${p.dataIndex === 0 || p.dataIndex === names.length - 1 ? p.data.delta : signed(p.data.delta)}` : ''; } },
      grid: { left: 8, right: 16, top: 24, bottom: 8, containLabel: true },
      xAxis: { type: 'category', data: names, axisLabel: { color: '#9fb1cc', interval: 0, rotate: names.length > 8 ? 30 : 0 }, axisLine: AXIS.axisLine },
      yAxis: Object.assign({ type: 'value' }, AXIS),
      series: [
        { type: 'bar', stack: 'w', data: helper, itemStyle: { color: 'transparent' }, emphasis: { disabled: true }, silent: true },
        { type: 'bar', stack: 'w', data: bars, barMaxWidth: 36,
          label: { show: true, position: 'top', color: '#d8e3f3', formatter: (p) => (p.dataIndex === 0 || p.dataIndex === names.length - 1 ? String(p.data.delta) : signed(p.data.delta)) } },
      ],
    };
  }

  function scoreHistoryOption(score) {
    if (!score) return emptyOption('暂无评分');
    // history is newest first; the current score is added when it is not its first row.
    const points = (score.history || []).slice().reverse().map((h) => [h.as_of, h.score, h.grade]);
    if (!points.length || points[points.length - 1][0] !== score.as_of) points.push([score.as_of, score.score, score.grade]);
    return {
      tooltip: { trigger: 'axis', confine: true, formatter: (ps) => ps.map((p) => escapeHtml(`${p.data[0]}：${p.data[1]} 分（${p.data[2]}）`)).join('<br>') },
      grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
      xAxis: TIME_AXIS,
      yAxis: Object.assign({ type: 'value', scale: true }, AXIS),
      series: [{ type: 'line', step: 'end', data: points, symbolSize: 7, lineStyle: { color: '#3aa0ff' }, itemStyle: { color: '#3aa0ff' } }],
    };
  }

  function timelineOption(alerts) {
    if (!alerts.length) return emptyOption('暂无预警');
    const levels = SEVERITIES.slice().reverse();
    return {
      tooltip: { trigger: 'item', confine: true, formatter: (p) => `${escapeHtml(p.data.value[0])} · ${escapeHtml(label(SEVERITY, p.data.value[1]))}<br>${escapeHtml(p.data.title)}（${escapeHtml(label(STATUS, p.data.status))}）` },
      grid: { left: 8, right: 24, top: 16, bottom: 8, containLabel: true },
      xAxis: TIME_AXIS,
      yAxis: { type: 'category', data: levels, axisLabel: { color: '#9fb1cc', formatter: (s) => label(SEVERITY, s) }, axisLine: AXIS.axisLine },
      series: [{
        type: 'scatter', symbolSize: 14, cursor: 'pointer',
        data: alerts.map((a) => ({
          value: [a.as_of, a.severity], id: a.id, title: a.title || a.rule, status: a.status,
          itemStyle: { color: SEVERITY_COLOR[a.severity] || '#8c8c8c', opacity: a.status === 'active' ? 1 : 0.35 },
        })),
      }],
    };
  }

  /** ECharts tooltips are HTML: data in them is escaped. */
  function escapeHtml(s) {
    return String(s == null ? '' : s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  }

  // ---------------------------------------------------------------- 行业监测

  async function renderIndustryList(v, _params, _query, token) {
    const input = el('input', { id: 'industry-search', placeholder: '行业大类代码，如 C17', maxlength: 3 });
    const form = el('form', { class: 'search' }, input, el('button', { type: 'submit', class: 'primary' }, '查看行业'));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const division = input.value.trim().toUpperCase();
      if (!DIVISION_RE.test(division)) return showBanner('行业大类代码应为门类字母加两位数字，如 C17。');
      location.hash = industryHref(division);
    });
    const root = el('div');
    root.append(el('div', { class: 'page-head' }, el('h1', null, '行业监测')), panel('查找行业', null, form));
    if (!may('read_alerts')) return v.replaceChildren(root);
    const ov = await api('/v1/stats/overview');
    live(token);
    const rows = (ov.by_division || []).map((d) => el('tr', { 'data-division': d.division },
      td(el('a', { href: industryHref(d.division) }, d.division)), num(d.enterprises), num(d.alerted), num(d.alerted_share, fmtPct), num(d.active_alerts)));
    root.append(panel('各行业大类', '按预警企业占比排序', rows.length
      ? table(['行业大类', { text: '企业数', attrs: { class: 'num' } }, { text: '高风险企业', attrs: { class: 'num' } }, { text: '占比', attrs: { class: 'num' } }, { text: '生效预警', attrs: { class: 'num' } }], rows, { id: 'division-table' })
      : el('div', { class: 'empty' }, '暂无数据')));
    v.replaceChildren(root);
  }

  async function renderIndustry(v, [division], _query, token) {
    if (!DIVISION_RE.test(division)) return notFound(v, '行业大类代码格式不正确。');
    const ind = await api(`/v1/industries/${division}`);
    live(token);
    const root = el('div', { class: 'industry-page', 'data-division': ind.division });
    v.replaceChildren(root);
    root.append(el('div', { class: 'page-head' }, el('h1', { id: 'industry-title' }, `行业监测 · ${ind.division}`),
      el('a', { href: `#/alerts?industry=${encodeURIComponent(ind.division)}` }, '该行业的预警')));
    root.append(el('div', { class: 'kpis' },
      kpi('population', '企业数', ind.population),
      kpi('alerted', '高风险企业', ind.alerted),
      kpi('alerted-share', '高风险企业占比', ind.alerted_share, fmtPct),
      kpi('active-alerts', '生效预警', ind.active_alerts)));

    const row = el('div', { class: 'grid grid-wide' });
    const pSeries = panel('行业月度指标', '近 24 个月 · 点击图例切换');
    const pGrades = panel('信用等级分布');
    row.append(pSeries, pGrades);
    root.append(row);
    const series = ind.series || [];
    chart(pSeries, 'chart-industry-series', 'industry-series', series.length && series.some((s) => (s.values || []).some((x) => x != null)) ? {
      tooltip: TOOLTIP,
      legend: { top: 0, type: 'scroll', selectedMode: 'single', textStyle: { color: '#9fb1cc' } },
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: 'category', data: ind.months || [], axisLabel: { color: '#9fb1cc' }, axisLine: AXIS.axisLine },
      yAxis: Object.assign({ type: 'value', scale: true }, AXIS),
      series: series.map((s) => ({ type: 'line', name: s.series, data: s.values || [], connectNulls: false, symbolSize: 5 })),
    } : emptyOption(), 'tall');
    const grades = ind.grades || [];
    chart(pGrades, 'chart-industry-grades', 'industry-grades', barOption(grades.map((g) => g.grade), [{ name: '企业数', data: grades.map((g) => g.count), itemStyle: { color: '#36cfc9' } }]), 'tall');

    const leaders = ind.leaders || [];
    root.append(panel('龙头企业', null, leaders.length
      ? table(['企业', '统一社会信用代码', { text: '评分', attrs: { class: 'num' } }, '等级', { text: '生效预警', attrs: { class: 'num' } }],
        leaders.map((l) => el('tr', { 'data-uscc': l.uscc },
          td(el('a', { href: enterpriseHref(l.uscc), class: 'leader-link', 'data-uscc': l.uscc }, l.name || l.uscc)),
          td(l.uscc, 'mono'), num(l.score, String), td(l.grade || '—'), num(l.active_alerts))), { id: 'leaders-table' })
      : el('div', { class: 'empty' }, '暂无龙头企业')));
    root.append(panel('行业预警', null, alertTable(ind.alerts || [], 'industry-alerts')));
  }

  // ---------------------------------------------------------------- 数据质量

  async function renderHealth(v, [topic], _query, token) {
    const [feeds, detail] = await Promise.all([
      api('/v1/feeds'),
      topic ? api(`/v1/feeds/${encodeURIComponent(topic)}`) : null,
    ]);
    live(token);
    const s = feeds.summary || {};
    const list = feeds.feeds || [];
    const root = el('div', { class: 'health-page' });
    v.replaceChildren(root);
    root.append(el('div', { class: 'page-head' }, el('h1', null, '数据质量'),
      el('span', { class: 'muted' }, feeds.as_of ? `业务日期截至 ${feeds.as_of}` : '尚无数据'),
      el('span', { class: 'muted' }, `统计于 ${fmtTime(feeds.computed_at)}`)));
    root.append(el('div', { class: 'kpis', id: 'health-kpis' },
      kpi('feeds', '数据源', s.feeds),
      kpi('fresh', '按时更新', s.fresh),
      kpi('fresh-share', '更新及时率', s.fresh_share, fmtPct),
      kpi('records', '入库记录', s.records),
      kpi('enterprises', '关联企业', s.enterprises),
      kpi('persons', '关联个人', s.persons),
      kpi('key-coverage', '关键字段覆盖率', s.key_coverage, fmtPct),
      kpi('unlinked', '未关联记录', s.unlinked),
      kpi('quarantined', '隔离记录', s.quarantined)));

    if (detail) feedDetail(root, detail);

    const rows = list.map((f, i) => {
      const link = f.linking || {};
      const cont = f.continuity;
      const row = el('tr', { class: `clickable${f.topic === topic ? ' selected' : ''}`, 'data-topic': f.topic, 'data-fresh': String(!!f.fresh) },
        td(el('a', { href: `#/health/${encodeURIComponent(f.topic)}`, class: 'feed-link mono', title: f.description || '' }, f.topic)),
        td(f.department || '—'),
        td(label(CADENCE, f.cadence)),
        td(f.latest_business_date || '—'),
        el('td', { class: f.fresh ? 'fresh' : 'stale', 'data-stale-days': f.stale_days == null ? '' : f.stale_days },
          f.fresh ? '及时' : `停更${f.stale_days != null ? ` ${f.stale_days} 天` : ''}`),
        num(f.records),
        num(f.received_last_30_days),
        num(link.key_coverage, fmtPct),
        num(link.by_account),
        num(link.by_name),
        num(f.unlinked ? f.unlinked.count : null),
        num(f.quarantine ? f.quarantine.count : null),
        el('td', { class: 'num' }, cont ? `${fmtInt(cont.enterprises_with_gaps)} 家 / ${fmtInt(cont.missing_months)} 月` : '—'),
        el('td', { class: 'mini-cell', 'data-index': i }));
      row.addEventListener('click', (e) => {
        if (e.target.closest('a')) return;
        location.hash = `#/health/${encodeURIComponent(f.topic)}`;
      });
      return row;
    });
    const pTable = panel('数据源', '点击一行查看详情');
    pTable.append(table(['主题', '部门', '频率', '最新业务日期', '状态', { text: '记录数', attrs: { class: 'num' } }, { text: '近30天', attrs: { class: 'num' } },
      { text: '关键字段覆盖', attrs: { class: 'num' } }, { text: '按账号关联', attrs: { class: 'num' } }, { text: '按名称关联', attrs: { class: 'num' } },
      { text: '未关联', attrs: { class: 'num' } }, { text: '隔离', attrs: { class: 'num' } }, { text: '连续性缺口', attrs: { class: 'num' } }, '月度记录'], rows, { id: 'feed-table' }));
    root.append(pTable);
    list.forEach((f, i) => {
      const cell = pTable.querySelector(`td.mini-cell[data-index="${i}"]`);
      const monthly = f.monthly || [];
      chart(cell, `feed-monthly-${i}`, `feed-monthly:${f.topic}`, sparkOption(monthly.map((m) => m.month), monthly.map((m) => m.records), { bars: true }), 'mini');
    });

    const row = el('div', { class: 'grid grid-2' });
    const pCoverage = panel('各数据源关键字段覆盖率');
    const pStale = panel('各数据源记录数');
    row.append(pCoverage, pStale);
    root.append(row);
    chart(pCoverage, 'chart-health-coverage', 'feed-key-coverage', barOption(list.map((f) => f.topic),
      [{ name: '覆盖率', data: list.map((f) => (f.linking ? f.linking.key_coverage : null)), itemStyle: { color: '#36cfc9' } }], { horizontal: true, percent: true }), 'tall');
    chart(pStale, 'chart-health-records', 'feed-records', barOption(list.map((f) => f.topic),
      [{ name: '记录数', data: list.map((f) => ({ value: f.records, itemStyle: { color: f.fresh ? '#3aa0ff' : '#faad14' } })) }], { horizontal: true }), 'tall');
  }

  function feedDetail(parent, f) {
    const section = panel(`数据源详情 · ${f.topic}`, f.fresh ? '及时' : `停更${f.stale_days != null ? ` ${f.stale_days} 天` : ''}`);
    section.id = 'feed-detail';
    section.dataset.topic = f.topic;
    const link = f.linking || {};
    const q = f.quarantine || {};
    const cont = f.continuity;
    section.append(el('dl', { class: 'facts' },
      el('dt', null, '说明'), el('dd', null, f.description || '—'),
      el('dt', null, '部门'), el('dd', null, f.department || '—'),
      el('dt', null, '更新频率'), el('dd', null, `${label(CADENCE, f.cadence)}（最长静默 ${f.max_silence_days} 天）`),
      el('dt', null, '最新业务日期'), el('dd', null, f.latest_business_date || '—'),
      el('dt', null, '数据覆盖至'), el('dd', null, f.covered_until || '—'),
      el('dt', null, '最近接收'), el('dd', null, fmtTime(f.last_received_at)),
      el('dt', null, '未关联'), el('dd', null, f.unlinked ? `${fmtInt(f.unlinked.count)} 条${f.unlinked.oldest_since ? `，最早自 ${fmtTime(f.unlinked.oldest_since)}` : ''}` : '—'),
      el('dt', null, '连续性'), el('dd', null, cont ? `${fmtInt(cont.enterprises)} 家企业中 ${fmtInt(cont.enterprises_with_gaps)} 家有缺月，共缺 ${fmtInt(cont.missing_months)} 个月` : '不适用')));
    const grid = el('div', { class: 'grid grid-3' });
    const pMonthly = el('div', null, el('h3', null, '月度记录数'));
    const pLinking = el('div', null, el('h3', null, '关联方式'));
    const pReasons = el('div', null, el('h3', null, `隔离原因（共 ${fmtInt(q.count || 0)} 条）`));
    grid.append(pMonthly, pLinking, pReasons);
    section.append(grid);
    parent.append(section);
    {
      const monthly = f.monthly || [];
      chart(pMonthly, 'chart-feed-monthly', `feed-detail-monthly:${f.topic}`, barOption(monthly.map((m) => m.month),
        [{ name: '记录数', data: monthly.map((m) => m.records), itemStyle: { color: '#3aa0ff' } }], { rotate: 45 }), 'short');
      chart(pLinking, 'chart-feed-linking', `feed-detail-linking:${f.topic}`, pieOption([
        { name: '按信用代码', value: link.by_key || 0, itemStyle: { color: '#36cfc9' } },
        { name: '按账号', value: link.by_account || 0, itemStyle: { color: '#3aa0ff' } },
        { name: '按名称', value: link.by_name || 0, itemStyle: { color: '#9254de' } },
        { name: '无需关联', value: link.unrecorded || 0, itemStyle: { color: '#8c8c8c' } },
        { name: '未关联', value: link.unlinked || 0, itemStyle: { color: '#ff4d4f' } },
      ]), 'short');
      const reasons = q.top_reasons || [];
      chart(pReasons, 'chart-feed-quarantine', `feed-detail-quarantine:${f.topic}`, barOption(reasons.map((r, i) => `#${i + 1}`),
        [{ name: '记录数', data: reasons.map((r) => r.count), itemStyle: { color: '#faad14' } }], { horizontal: true }), 'short');
      if (reasons.length) {
        pReasons.append(table(['#', '原因', { text: '条数', attrs: { class: 'num' } }], reasons.map((r, i) =>
          el('tr', null, td(`#${i + 1}`), td(r.reason, 'mono'), num(r.count))), { id: 'quarantine-reasons' }));
      }
    }
  }

  // ---------------------------------------------------------------- boot

  async function boot() {
    $('#login-form').addEventListener('submit', signIn);
    $('#logout').addEventListener('click', signOut);
    $('#error-close').addEventListener('click', hideBanner);
    window.addEventListener('hashchange', renderRoute);
    window.addEventListener('resize', onResize);
    // A promise nobody handled must not reach the console as an error.
    window.addEventListener('unhandledrejection', (e) => {
      e.preventDefault();
      console.warn('unhandled:', e.reason && e.reason.message);
    });
    try {
      state.me = await api('/v1/me');
    } catch (e) {
      if (e.status === 401) return showLogin();
      showLogin();
      return showBanner(`无法连接服务器：${e.message}`);
    }
    showApp();
    renderRoute();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
