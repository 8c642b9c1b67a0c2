/**
 * The web console (apps/console, served on the HTTP port) in a real browser against a real server
 * process with an `auth` section: login (a wrong password, then the right one), a topic created in
 * the UI, messages from @apogee/client moving the overview's in-rate, a search by key and the
 * message's body as JSON, text and hex, a consumer group's lag falling to 0, an mqtt.js client
 * listed and disconnected from the MQTT page, a user added, edited and deleted on the users page
 * (and an edit that would lock the admins out refused). A screenshot of every page goes to the
 * temporary folder the test prints; any console error or uncaught exception on any page fails it.
 *
 * The browser is the system's Chromium (/usr/bin/chromium, driven by playwright-core: nothing is
 * downloaded). Without it the test skips, except under CI=true, where it must run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MessageSelector, Producer, PullConsumer, PushConsumer } from '@apogee/client';
import { hashPassword } from '@apogee/broker';
import mqtt from 'mqtt';
import { type Browser, type Page, chromium } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ServerProcess, killAllStarted } from './server-process.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = fs.existsSync(CHROMIUM);
const required = process.env['CI'] === 'true';

/** Generous: the browser, the server and other test files share two cores. */
const WAIT = { timeout: 30_000, interval: 200 };

/** Refusals the console asks for on purpose (the wrong password, anonymous access, a route not there yet) appear as failed loads; nothing else may. */
const EXPECTED_LOAD_FAILURE = /^Failed to load resource: the server responded with a status of (401|403|404|409)\b/;
/** What a fetch to a stopped server logs (expected only once the test has stopped it). */
const UNREACHABLE_LOAD_FAILURE = /^Failed to load resource: net::ERR_CONNECTION_REFUSED/;

// Each step waits on the server and the browser, which share the machine with other test files.
describe.skipIf(!haveChromium && !required)('web console in a browser', { timeout: 120_000 }, () => {
  let server: ServerProcess;
  let dir: string;
  let shots: string;
  let browser: Browser;
  let page: Page;
  let base: string;
  const errors: string[] = [];
  let serverStopped = false;
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`CI=true and ${CHROMIUM} is missing: .ci/run installs Debian's chromium package`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apg-console-'));
    shots = path.join(dir, 'screenshots');
    fs.mkdirSync(shots);
    const config = path.join(dir, 'apogee.json');
    const auth = {
      // Anonymous clients may publish and consume (the default rules) but not administer.
      anonymous: { admin: false },
      users: [{ username: 'ops', password: await hashPassword('ops-secret'), admin: true }],
    };
    fs.writeFileSync(config, JSON.stringify({ auth }));
    server = await ServerProcess.start(path.join(dir, 'data'), undefined, ['--config', config]);
    base = `http://${server.httpAddr}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-background-networking', '--disable-dev-shm-usage'],
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    page.setDefaultTimeout(WAIT.timeout);
    page.on('console', (msg) => {
      if (msg.type() !== 'error' || EXPECTED_LOAD_FAILURE.test(msg.text()) || (serverStopped && UNREACHABLE_LOAD_FAILURE.test(msg.text()))) return;
      errors.push(`console error on ${page.url()}: ${msg.text()}`);
    });
    page.on('pageerror', (err) => errors.push(`uncaught on ${page.url()}: ${err.message}`));
  }, 120_000);

  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    await browser?.close();
    await killAllStarted();
    if (dir) {
      for (const data of ['data', 'data-open']) fs.rmSync(path.join(dir, data), { recursive: true, force: true });
      process.stdout.write(`console screenshots: ${shots}\n`);
    }
  });

  // Every page the test opened so far is free of console errors and uncaught exceptions.
  afterEach(() => {
    expect(errors).toEqual([]);
  });

  const shot = (name: string) => page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
  const nav = async (label: string, heading: string | RegExp) => {
    await page.locator('nav.sidebar').getByRole('link', { name: label, exact: true }).click();
    await page.locator('.page-header h1', { hasText: heading }).waitFor();
  };

  it('serves the console on / with its headers, and leaves /metrics and /api alone', async () => {
    const index = await fetch(`${base}/groups/some-group`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(index.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    expect(index.headers.get('x-frame-options')).toBe('DENY');
    const html = await index.text();
    expect(html).not.toMatch(/<script>|<script type="module">/);
    const script = /<script type="module" src="(\/assets\/main-[A-Z0-9]+\.js)">/.exec(html)?.[1];
    const css = /<link rel="stylesheet" href="(\/assets\/main-[A-Z0-9]+\.css)"/.exec(html)?.[1];
    expect(script && css, html).toBeTruthy();
    const js = await fetch(`${base}${script}`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await fetch(`${base}${css}`)).headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect((await fetch(`${base}/assets/main-MISSING.js`)).status).toBe(404);
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await metrics.text()).toContain('apogee_send_messages_total');
    const api = await fetch(`${base}/api/v1/nothing`, { headers: { authorization: `Basic ${Buffer.from('ops:ops-secret').toString('base64')}` } });
    expect(api.status).toBe(404);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });

  it('answers the overview samples, and only newer ones after ?since=', async () => {
    const headers = { authorization: `Basic ${Buffer.from('ops:ops-secret').toString('base64')}` };
    type Samples = { intervalMs: number; samples: Array<{ t: number; connections: { remoting: number }; diskFreeBytes: number | null; fsync: unknown }> };
    const get = async (q = '') => (await (await fetch(`${base}/api/v1/stats/overview${q}`, { headers })).json()) as Samples;
    await expect.poll(async () => (await get()).samples.length, WAIT).toBeGreaterThan(1);
    const all = await get();
    expect(all.intervalMs).toBe(1000);
    const last = all.samples[all.samples.length - 1]!;
    expect(last).toMatchObject({ fsync: null, connections: { remoting: expect.any(Number) } });
    await expect.poll(async () => (await get()).samples.at(-1)!.diskFreeBytes, WAIT).toBeGreaterThan(0);
    const newer = await get(`?since=${last.t}`);
    expect(newer.samples.every((x) => x.t > last.t)).toBe(true);
    expect((await fetch(`${base}/api/v1/stats/overview`)).status).toBe(403);
  });

  it('logs in: a wrong password is refused, the right one opens the overview', async () => {
    await page.goto(`${base}/`);
    const form = page.locator('form[aria-label="log in"]');
    await form.waitFor();
    await shot('01-login');
    await form.locator('input[name=username]').fill('ops');
    await form.locator('input[name=password]').fill('not-the-password');
    await form.getByRole('button', { name: 'Log in' }).click();
    await expect.poll(() => page.locator('[data-testid=login-error]').textContent(), WAIT).toBe('wrong username or password');
    await shot('02-login-wrong-password');
    await form.locator('input[name=password]').fill('ops-secret');
    await form.getByRole('button', { name: 'Log in' }).click();
    await page.locator('.page-header h1', { hasText: 'Overview' }).waitFor();
    await expect.poll(() => page.locator('[data-testid=user]').textContent(), WAIT).toBe('ops');
  });

  it('creates a topic in the UI', async () => {
    await nav('Topics', 'Topics');
    const form = page.locator('form[aria-label="create topic"]');
    await form.locator('input[name=topic]').fill('ConsoleT');
    await form.locator('input[name=queues]').fill('2');
    await form.getByRole('button', { name: 'Create' }).click();
    const row = page.locator('tr[data-topic="ConsoleT"]');
    await row.waitFor();
    await expect.poll(() => row.locator('td').nth(2).textContent(), WAIT).toBe('2');
    // Creating it again shows the API's 409.
    await form.locator('input[name=topic]').fill('ConsoleT');
    await form.getByRole('button', { name: 'Create' }).click();
    await expect.poll(() => form.locator('[data-testid=error-banner]').getAttribute('data-code'), WAIT).toBe('CONFLICT');
    await shot('03-topics');
    // Another one, deleted again: the delete asks first.
    await form.locator('input[name=topic]').fill('ConsoleGone');
    await form.getByRole('button', { name: 'Create' }).click();
    const gone = page.locator('tr[data-topic="ConsoleGone"]');
    await gone.getByRole('button', { name: 'Delete' }).click();
    await gone.getByRole('button', { name: 'Yes, delete' }).click();
    await expect.poll(() => gone.count(), WAIT).toBe(0);
    await row.getByRole('link', { name: 'ConsoleT' }).click();
    await page.locator('[data-testid=queues-table] tbody tr').nth(1).waitFor();
    await shot('04-topic-detail');
  });

  it('shows the in-rate move on the overview while a producer sends', async () => {
    const producer = new Producer({ nameServer: server.namesrvAddr, group: 'console-pg' });
    await producer.start();
    cleanups.push(() => producer.shutdown());
    // The topic was created over HTTP: its route reaches the NameServer with the broker's next registration.
    await expect
      .poll(async () => {
        try {
          await producer.send({ topic: 'ConsoleT', body: JSON.stringify({ order: 1, item: 'book' }), keys: ['order-1'], tags: 'web' });
          return true;
        } catch {
          return false;
        }
      }, WAIT)
      .toBe(true);
    await nav('Overview', 'Overview');
    let sending = true;
    const loop = (async () => {
      let i = 0;
      while (sending) {
        await producer.send({ topic: 'ConsoleT', body: `filler ${i++}`, keys: [`filler-${i}`] });
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    try {
      const inRate = page.locator('[data-testid=chart-messages] li[data-series=in]');
      await expect.poll(async () => Number((await inRate.getAttribute('data-value')) || 0), WAIT).toBeGreaterThan(0);
      await expect.poll(async () => Number((await page.locator('[data-testid=rate-in]').getAttribute('data-value')) || 0), WAIT).toBeGreaterThan(0);
      await page.locator('[data-testid=chart-messages] canvas').first().waitFor();
      // The store flushes what the sends wrote: the fsync chart shows its recent p99.
      await expect
        .poll(async () => Number((await page.locator('[data-testid=chart-fsync] [data-series=p99]').getAttribute('data-value')) || 0), WAIT)
        .toBeGreaterThan(0);
      await shot('05-overview');
    } finally {
      sending = false;
      await loop;
    }
  });

  it('finds the message by key and shows its body as JSON, text and hex, and its trace tab', async () => {
    await nav('Messages', 'Messages');
    const form = page.locator('form[aria-label="search messages"]');
    await form.locator('input[name=topic]').fill('ConsoleT');
    await form.locator('input[name=key]').fill('order-1');
    await form.getByRole('button', { name: 'Search' }).click();
    const results = page.locator('[data-testid=message-results] tbody tr');
    await expect.poll(() => results.count(), WAIT).toBe(1);
    await shot('06-message-search');
    await results.first().getByRole('link').click();
    const body = page.locator('[data-testid=message-body]');
    await expect.poll(() => body.getAttribute('data-view'), WAIT).toBe('json');
    expect(await body.textContent()).toBe(JSON.stringify({ order: 1, item: 'book' }, null, 2));
    await expect.poll(() => page.locator('[data-testid=message-properties]').textContent(), WAIT).toContain('order-1');
    await shot('07-message-json');
    await page.getByRole('tab', { name: 'Text' }).click();
    await expect.poll(() => body.textContent(), WAIT).toBe('{"order":1,"item":"book"}');
    await page.getByRole('tab', { name: 'Hex' }).click();
    await expect.poll(() => body.textContent(), WAIT).toMatch(/^00000000 {2}7b 22 6f 72 64 65 72 22/);
    await shot('08-message-hex');
    await page.getByRole('tab', { name: 'Trace' }).click();
    // The producer does not trace: the timeline has the store event derived from the message itself.
    const traceRows = page.locator('[data-testid=trace] tbody tr');
    await expect.poll(() => traceRows.count(), WAIT).toBeGreaterThan(0);
    expect(await traceRows.first().getAttribute('data-kind')).toBe('stored');
    expect(await page.locator('[data-testid=trace] [data-testid=error-banner]').count()).toBe(0);
    await shot('09-message-trace');
  });

  it("shows a consumer group's lag fall to 0 once a push consumer runs", async () => {
    // A group whose committed offsets are 0 on every queue: its lag is the topic's messages.
    const puller = new PullConsumer({ nameServer: server.namesrvAddr, group: 'console-cg' });
    await puller.start();
    for (const q of await puller.fetchSubscribeQueues('ConsoleT')) {
      await puller.pull(q, MessageSelector.byTag('*'), 0, 1);
      await puller.commitOffset(q, 0);
    }
    await puller.shutdown();
    await nav('Groups', 'Consumer groups');
    await page.locator('tr[data-group="console-cg"]').getByRole('link').click();
    const lag = page.locator('[data-testid=group-lag]');
    await expect.poll(async () => Number(await lag.getAttribute('data-value')), WAIT).toBeGreaterThan(0);
    // Offsets move only while the group is offline; with a member online the API's 409 shows.
    const push = new PushConsumer({ nameServer: server.namesrvAddr, group: 'console-cg', consumeFromWhere: 'FIRST' });
    push.subscribe('ConsoleT', '*');
    let consumed = 0;
    await push.start(async () => {
      consumed++;
    });
    cleanups.push(() => push.shutdown());
    await expect.poll(async () => Number(await lag.getAttribute('data-value')), { ...WAIT, timeout: 60_000 }).toBe(0);
    expect(consumed).toBeGreaterThan(0);
    await expect.poll(() => page.locator('[data-testid=chart-lag] li[data-series=lag]').getAttribute('data-value'), WAIT).toBe('0');
    await page.getByRole('button', { name: 'Skip backlog' }).click();
    await page.getByRole('button', { name: 'Yes, skip backlog' }).click();
    await expect.poll(() => page.locator('section.panel [data-testid=error-banner]').textContent(), WAIT).toMatch(/CONFLICT.*online member/);
    await shot('10-group');
    // Offline, the group's offsets go back to an hour ago: the whole topic is its lag again.
    await push.shutdown();
    await expect.poll(() => page.locator('.tile', { hasText: 'State' }).locator('b').textContent(), WAIT).toBe('offline');
    await page.getByRole('button', { name: 'Reset offsets' }).click();
    await expect.poll(() => page.locator('section.panel [role=status]').textContent(), WAIT).toMatch(/queue\(s\) moved/);
    await expect.poll(async () => Number(await lag.getAttribute('data-value')), WAIT).toBeGreaterThan(0);
    await shot('10b-group-reset');
  });

  it('lists an MQTT client and disconnects it', async () => {
    const client = mqtt.connect(server.mqttUrl, { clientId: 'console-mqtt-1', protocolVersion: 5, reconnectPeriod: 0 });
    cleanups.push(async () => client.end(true));
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    await client.subscribeAsync('sensors/#', { qos: 1 });
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    await nav('MQTT', 'MQTT');
    const row = page.locator('tr[data-client="console-mqtt-1"]');
    await row.waitFor();
    expect(await row.locator('td').nth(1).textContent()).toBe('5.0');
    expect(await row.locator('td').nth(2).textContent()).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(await row.locator('td').nth(4).textContent()).toContain('sensors/#');
    await shot('11-mqtt');
    await row.getByRole('button', { name: 'Disconnect' }).click();
    await closed;
    await expect.poll(() => row.count(), WAIT).toBe(0);
    await page.getByRole('tab', { name: 'Sessions' }).click();
    await shot('12-mqtt-sessions');
  });

  it('adds a user whose password works on MQTT, edits its rules, refuses to lock the admins out, and deletes it', async () => {
    await nav('Users', 'Users and ACL');
    await page.locator('tr[data-user="ops"]').waitFor();
    await page.getByRole('button', { name: 'Add user' }).click();
    const form = page.locator('form[aria-label="add user"]');
    await form.locator('input[name=username]').fill('device');
    await form.locator('input[name=password]').fill('dev-pw');
    await form.locator('input[name=publish-allow]').fill('dev/#');
    await form.getByRole('button', { name: 'Create' }).click();
    const row = page.locator('tr[data-user="device"]');
    await row.waitFor();
    await expect.poll(() => row.locator('td').nth(3).textContent(), WAIT).toBe('dev/#');
    const device = mqtt.connect(server.mqttUrl, { clientId: 'console-device', protocolVersion: 5, reconnectPeriod: 0, username: 'device', password: 'dev-pw' });
    cleanups.push(async () => device.end(true));
    await new Promise<void>((resolve, reject) => {
      device.once('connect', () => resolve());
      device.once('error', reject);
    });
    await device.publishAsync('dev/1', 'x', { qos: 1 });
    await shot('13-users');

    await row.getByRole('button', { name: 'Edit' }).click();
    const edit = page.locator('form[aria-label="edit user device"]');
    await edit.locator('input[name=publish-allow]').fill('devices/#, dev/#');
    await edit.locator('input[name=publish-deny]').fill('dev/secret');
    await edit.getByRole('button', { name: 'Save' }).click();
    await page.getByText('User device updated.').waitFor();
    await expect.poll(() => row.locator('td').nth(3).textContent(), WAIT).toBe('devices/#, dev/# except dev/secret');
    await expect(device.publishAsync('dev/secret', 'x', { qos: 1 })).rejects.toThrow(/Not authorized/);

    await page.locator('tr[data-user="ops"]').getByRole('button', { name: 'Edit' }).click();
    const ops = page.locator('form[aria-label="edit user ops"]');
    await ops.locator('input[name=admin]').uncheck();
    await ops.getByRole('button', { name: 'Save' }).click();
    await ops.locator('[data-testid=error-banner][data-code=CONFLICT]').waitFor();
    await shot('14-users-refused');
    await ops.getByRole('button', { name: 'Cancel' }).click();

    await row.getByRole('button', { name: 'Delete' }).click();
    await row.getByRole('button', { name: 'Yes, delete' }).click();
    await page.getByText('User device deleted.').waitFor();
    await expect.poll(() => row.count(), WAIT).toBe(0);
    await expect(device.publishAsync('dev/1', 'x', { qos: 1 })).rejects.toThrow(/Not authorized/);
  });

  it('shows the AMQP and cluster pages, then logs out', async () => {
    await nav('AMQP', 'AMQP');
    await page.getByText('No AMQP connection is open.').waitFor();
    await shot('15-amqp');
    await nav('Cluster', 'Cluster');
    const broker = page.locator('section[data-broker="broker-a"]');
    await broker.waitFor();
    expect(await broker.textContent()).toContain(server.brokerAddr);
    expect(await broker.textContent()).toContain('MASTER');
    await shot('16-cluster');
    // A client-side route loads on its own (the server answers index.html) and the login is kept.
    await page.goto(`${base}/groups/console-cg`);
    await page.locator('[data-testid=group-lag]').waitFor();
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.locator('form[aria-label="log in"]').waitFor();
    await shot('17-logged-out');
  });

  it('skips the login where anonymous clients are admins, and says when the server is unreachable', async () => {
    const open = await ServerProcess.start(path.join(dir, 'data-open'));
    await page.goto(`http://${open.httpAddr}/cluster`);
    await page.locator('section[data-broker="broker-a"]').waitFor();
    await page.getByText('anonymous admin').waitFor();
    await nav('Overview', 'Overview');
    await page.locator('[data-testid=rate-in]').waitFor();
    serverStopped = true;
    await open.stop();
    await expect.poll(() => page.locator('[data-testid=error-banner]').textContent(), WAIT).toMatch(/server unreachable/);
    await shot('18-server-unreachable');
  });
});
