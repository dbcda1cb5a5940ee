import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, parseConfig } from '@hooklane/core';
import type { DeliveryQueue } from '@hooklane/queue';
import { parse, parseAllDocuments } from 'yaml';
import { createApiMetrics } from '../../apps/api/src/metrics.js';
import { createWorkerMetrics } from '../../apps/worker/src/metrics.js';

// These are the files users run with `docker compose up` and `kubectl apply`; Docker does not
// run in CI, so the test reads them the way Compose, Prometheus, Grafana and Kubernetes would.

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');
// Compose honours YAML merge keys (`<<: *anchor`); YAML 1.2 parsers need them switched on.
const readYaml = (path: string): any => parse(read(path), { merge: true });

const compose = readYaml('docker-compose.yml');
const services: Record<string, any> = compose.services;

const LONG_RUNNING = ['redis', 'postgres', 'api', 'worker', 'prometheus', 'grafana'];

describe('docker-compose.yml', () => {
  it('declares every service the stack needs', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['api', 'grafana', 'migrate', 'postgres', 'prometheus', 'redis', 'worker'].sort(),
    );
  });

  it.each(LONG_RUNNING)('%s has a healthcheck', (name) => {
    const test = services[name]?.healthcheck?.test;
    expect(Array.isArray(test) ? test.length : typeof test).toBeTruthy();
    expect(services[name].healthcheck.disable).not.toBe(true);
  });

  it('runs Redis the way BullMQ needs it: noeviction and the append-only file', () => {
    const command = [services.redis.command].flat().join(' ');
    expect(command).toMatch(/--maxmemory-policy[ =]noeviction/);
    expect(command).toMatch(/--appendonly[ =]yes/);
    expect(services.redis.healthcheck.test.join(' ')).toContain('redis-cli ping');
  });

  it('keeps PostgreSQL data in a volume and checks it with pg_isready', () => {
    expect(services.postgres.image).toMatch(/^postgres:16/);
    expect(services.postgres.volumes.join(' ')).toContain('/var/lib/postgresql/data');
    expect([services.postgres.healthcheck.test].flat().join(' ')).toContain('pg_isready');
  });

  it('migrates once, after PostgreSQL is healthy', () => {
    expect([services.migrate.command].flat().join(' ')).toBe('npm run db:migrate');
    expect(services.migrate.depends_on.postgres.condition).toBe('service_healthy');
    expect(services.migrate.restart ?? 'no').toBe('no');
  });

  it.each(['api', 'worker'])('%s starts only after the migration and healthy dependencies', (name) => {
    const dependsOn = services[name].depends_on;
    expect(dependsOn.migrate.condition).toBe('service_completed_successfully');
    expect(dependsOn.redis.condition).toBe('service_healthy');
    expect(dependsOn.postgres.condition).toBe('service_healthy');
  });

  it('runs each role from the same image with what the npm start scripts run', () => {
    // Long-running roles call node directly so `docker compose stop` delivers SIGTERM to it
    // (through npm it reaches only npm's shell, and the worker would be killed undrained).
    const scripts = JSON.parse(read('package.json')).scripts;
    const target = (script: string) => String(scripts[script]).replace(/^exec /, '');
    expect([services.api.command].flat().join(' ')).toBe(target('start:api'));
    expect([services.worker.command].flat().join(' ')).toBe(target('start:worker'));
    expect(target('start:worker')).toMatch(/^node --max-semi-space-size=8 apps\/worker\/dist\/main\.js$/);
    expect(services.api.init).toBe(true);
    expect(services.worker.init).toBe(true);
    expect(services.api.image).toBe(services.worker.image);
    expect(services.migrate.image).toBe(services.api.image);
  });

  // What a container sees: `${VAR:-default}` with VAR unset in the shell.
  const containerEnv = (name: string): Record<string, string> =>
    Object.fromEntries(
      Object.entries(services[name].environment ?? {}).map(([key, value]) => [key, String(value).replace(/^\$\{\w+:-(.*)\}$/, '$1')]),
    );

  it.each(['api', 'worker', 'migrate'])('%s: core config parses its environment, and every variable set is one core reads', (name) => {
    const env = containerEnv(name);
    const config = parseConfig(env);
    // Inside the compose network the stores are the services, not the 127.0.0.1 defaults.
    expect(Object.keys(services)).toContain(new URL(config.databaseUrl).hostname);
    if (name !== 'migrate') expect(Object.keys(services)).toContain(new URL(config.redisUrl).hostname);
    // A misspelt variable would be silently ignored: each one set must change what core parses.
    for (const key of Object.keys(env)) {
      let read: boolean;
      try {
        read = JSON.stringify(parseConfig({ ...env, [key]: '\u0001not valid' })) !== JSON.stringify(config);
      } catch (error) {
        read = error instanceof ConfigError && error.issues.some((issue) => issue.variable === key);
      }
      expect({ name, key, read }).toEqual({ name, key, read: true });
    }
  });

  it.each([
    ['api', 'port'],
    ['worker', 'metricsPort'],
  ] as const)('%s healthcheck calls /healthz on the port core config gives it', (name, field) => {
    const config = parseConfig(containerEnv(name));
    const url = /https?:\/\/[^'"\s)]+/.exec(services[name].healthcheck.test.join(' '))?.[0] ?? '';
    expect(Number(new URL(url).port)).toBe(config[field]);
    expect(new URL(url).pathname).toBe('/healthz');
  });

  it('publishes the API on 3000 and checks it on /healthz', () => {
    expect(services.api.ports).toContain('3000:3000');
    expect(services.api.healthcheck.test.join(' ')).toContain('/healthz');
  });

  it('lets `--scale worker=N` work: no host ports, no container_name, metrics port internal only', () => {
    expect(services.worker.ports).toBeUndefined();
    expect(services.worker.container_name).toBeUndefined();
    expect(services.worker.environment.METRICS_PORT).toBe('9464');
    expect(services.worker.expose).toContain('9464');
    expect(services.worker.healthcheck.test.join(' ')).toContain(':9464/healthz');
  });

  it('gives the api and workers more time to stop than their shutdown grace', () => {
    const graceMs = Number(/\d+/.exec(String(services.worker.environment.SHUTDOWN_GRACE_MS))?.[0]);
    for (const name of ['api', 'worker']) {
      const [, seconds] = /^(\d+)s$/.exec(services[name].stop_grace_period) ?? [];
      expect(Number(seconds) * 1000).toBeGreaterThan(graceMs);
    }
  });

  it('takes ADMIN_TOKEN from the environment, with a placeholder nobody would keep', () => {
    const token = String(services.api.environment.ADMIN_TOKEN);
    expect(token).toMatch(/^\$\{ADMIN_TOKEN:-.*CHANGE-ME.*\}$/);
    expect(services.worker.environment.ADMIN_TOKEN).toBe(token);
  });

  it('mounts the Prometheus config and the Grafana provisioning that exist in deploy/', () => {
    expect(services.prometheus.volumes.join(' ')).toContain('./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml');
    const grafanaVolumes = services.grafana.volumes.join(' ');
    expect(grafanaVolumes).toContain('./deploy/grafana/provisioning:/etc/grafana/provisioning');
    expect(grafanaVolumes).toContain('./deploy/grafana/dashboards:');
  });
});

describe('deploy/prometheus/prometheus.yml', () => {
  const prometheus = readYaml('deploy/prometheus/prometheus.yml');
  const jobs: any[] = prometheus.scrape_configs;

  it('finds every worker replica through DNS service discovery on the metrics port', () => {
    const worker = jobs.find((job) => job.dns_sd_configs?.some((sd: any) => sd.names.includes('worker')));
    expect(worker).toBeDefined();
    const sd = worker.dns_sd_configs.find((entry: any) => entry.names.includes('worker'));
    expect(sd).toMatchObject({ type: 'A', port: 9464 });
    expect(worker.metrics_path ?? '/metrics').toBe('/metrics');
  });

  it('scrapes the API on its port', () => {
    const api = jobs.find((job) => job.dns_sd_configs?.some((sd: any) => sd.names.includes('api')));
    expect(api.dns_sd_configs[0]).toMatchObject({ names: ['api'], port: 3000 });
  });

  it('loads the alert rules from the path compose mounts them at', () => {
    const mounts: string[] = services.prometheus.volumes;
    for (const file of prometheus.rule_files) {
      expect(mounts).toContain(`./deploy/prometheus/${file.split('/').at(-1)}:${file}:ro`);
    }
    expect(prometheus.rule_files.length).toBeGreaterThan(0);
  });

  it('has alert rules that each say how bad and what happened', () => {
    const rules = alertRules();
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining(['HooklaneApiDown', 'HooklaneWorkersDown', 'HooklaneQueueBacklog']),
    );
    for (const rule of rules) {
      expect(rule.expr).toEqual(expect.any(String));
      expect(rule.for).toMatch(/^\d+[smh]$/);
      expect(['page', 'ticket']).toContain(rule.labels.severity);
      expect(rule.annotations.summary).toEqual(expect.any(String));
    }
  });
});

function alertRules(): any[] {
  return readYaml('deploy/prometheus/alerts.yml').groups.flatMap((group: any) => group.rules);
}

describe('deploy/grafana', () => {
  const datasources = readYaml('deploy/grafana/provisioning/datasources/prometheus.yml');
  const providers = readYaml('deploy/grafana/provisioning/dashboards/hooklane.yml');
  const dashboard = JSON.parse(read('deploy/grafana/dashboards/hooklane.json'));

  it('provisions the compose Prometheus as the default datasource', () => {
    const [source] = datasources.datasources;
    expect(source).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090', isDefault: true });
  });

  it('loads dashboards from the directory compose mounts', () => {
    const mount = services.grafana.volumes.find((v: string) => v.startsWith('./deploy/grafana/dashboards:'));
    const target = mount.split(':')[1];
    expect(providers.providers[0].options.path).toBe(target);
  });

  it('points every panel at the provisioned datasource', () => {
    const uid = datasources.datasources[0].uid;
    for (const panel of dashboard.panels.filter((p: any) => p.type !== 'row')) {
      expect(panel.datasource.uid).toBe(uid);
    }
  });

  it('has the panels an operator looks for first', () => {
    const exprs = dashboardExprs(dashboard).join('\n');
    expect(exprs).toContain('rate(webhook_events_received_total');
    expect(exprs).toMatch(/sum by \(result\) \(rate\(webhook_deliveries_completed_total/);
    expect(exprs).toMatch(/histogram_quantile\(0\.99, .*webhook_delivery_attempt_duration_seconds_bucket/);
    expect(exprs).toMatch(/histogram_quantile\(0\.95, .*webhook_delivery_latency_seconds_bucket/);
    expect(exprs).toMatch(/by \(state\) \(webhook_queue_jobs\)/);
    expect(exprs).toMatch(/sum by \(instance\) \(rate\(webhook_delivery_attempts_total/);
  });
});

// Series Prometheus itself adds to every scrape target; no process registers them.
const PROMETHEUS_SYNTHETIC = new Set(['up']);

describe('dashboard queries against the registered metrics', () => {
  const dashboard = JSON.parse(read('deploy/grafana/dashboards/hooklane.json'));

  it('queries (dashboard and alerts) only metrics that the API or the worker registers', async () => {
    const registered = await registeredMetricNames();
    // Sanity: the contract's series are in there, so an empty set cannot pass vacuously.
    expect(registered).toEqual(
      expect.arrayContaining([
        'webhook_events_received_total',
        'webhook_deliveries_created_total',
        'webhook_delivery_attempts_total',
        'webhook_deliveries_completed_total',
        'webhook_delivery_attempt_duration_seconds_bucket',
        'webhook_delivery_latency_seconds_bucket',
        'webhook_queue_jobs',
      ]),
    );
    const exprs = [...dashboardExprs(dashboard), ...alertRules().map((rule) => String(rule.expr))];
    const queried = new Set(exprs.flatMap(metricNamesIn));
    expect(queried.size).toBeGreaterThan(5);
    const unknown = [...queried].filter((name) => !registered.includes(name) && !PROMETHEUS_SYNTHETIC.has(name));
    expect(unknown).toEqual([]);
  });

  it('extracts metric names from PromQL the way the check above relies on', () => {
    expect(
      metricNamesIn(
        'histogram_quantile(0.95, sum by (le) (rate(foo_bucket{job=~"a.*", x="y"}[$__rate_interval]))) / sum without (instance) (bar) + on (a) group_left count(baz == 1)',
      ).sort(),
    ).toEqual(['bar', 'baz', 'foo_bucket']);
  });
});

describe('deploy/k8s', () => {
  const files = readdirSync(join(root, 'deploy/k8s')).filter((f) => /\.ya?ml$/.test(f));
  const docs: any[] = files.flatMap((file) =>
    parseAllDocuments(read(`deploy/k8s/${file}`)).map((doc) => {
      expect(doc.errors).toEqual([]);
      return doc.toJS();
    }),
  );
  const find = (kind: string, name: string) => docs.find((d) => d?.kind === kind && d.metadata?.name === name);
  const api = find('Deployment', 'hooklane-api');
  const worker = find('Deployment', 'hooklane-worker');
  const config = find('ConfigMap', 'hooklane-config');

  it('has Deployments for the api and the worker, a migrate Job, Services, config and a secret', () => {
    expect(api).toBeDefined();
    expect(worker).toBeDefined();
    expect(find('Job', 'hooklane-migrate').spec.template.spec.containers[0].command.join(' ')).toBe('npm run db:migrate');
    expect(find('Service', 'hooklane-api')).toBeDefined();
    expect(find('Service', 'hooklane-worker')).toBeDefined();
    expect(config).toBeDefined();
    expect(find('Secret', 'hooklane-secrets').stringData.ADMIN_TOKEN).toContain('CHANGE-ME');
  });

  it('autoscales the worker Deployment on CPU', () => {
    const hpa = docs.find((d) => d?.kind === 'HorizontalPodAutoscaler');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'hooklane-worker' });
    expect(hpa.spec.metrics[0].resource.name).toBe('cpu');
    // An HPA on CPU utilisation needs CPU requests to compute a percentage.
    expect(worker.spec.template.spec.containers[0].resources.requests.cpu).toBeDefined();
  });

  it('probes the api on /readyz and /healthz and the worker on its metrics port', () => {
    const apiContainer = api.spec.template.spec.containers[0];
    expect(apiContainer.readinessProbe.httpGet.path).toBe('/readyz');
    expect(apiContainer.livenessProbe.httpGet.path).toBe('/healthz');
    const workerContainer = worker.spec.template.spec.containers[0];
    const metricsPort = workerContainer.ports.find((p: any) => p.name === workerContainer.livenessProbe.httpGet.port);
    expect(workerContainer.livenessProbe.httpGet.path).toBe('/healthz');
    expect(String(metricsPort.containerPort)).toBe(config.data.METRICS_PORT);
  });

  it('waits longer than SHUTDOWN_GRACE_MS before killing a stopping pod', () => {
    const graceMs = Number(config.data.SHUTDOWN_GRACE_MS);
    for (const deployment of [api, worker]) {
      expect(deployment.spec.template.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(graceMs);
    }
  });

  it('starts each Deployment with what its npm start script runs', () => {
    const scripts = JSON.parse(read('package.json')).scripts;
    const target = (script: string) => String(scripts[script]).replace(/^exec /, '');
    expect(api.spec.template.spec.containers[0].command.join(' ')).toBe(target('start:api'));
    expect(worker.spec.template.spec.containers[0].command.join(' ')).toBe(target('start:worker'));
  });

  it('runs as a non-root user', () => {
    for (const deployment of [api, worker]) {
      expect(deployment.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    }
  });
});

function dashboardExprs(dashboard: any): string[] {
  const panels: any[] = dashboard.panels.flatMap((p: any) => [p, ...(p.panels ?? [])]);
  return panels.flatMap((p) => (p.targets ?? []).map((t: any) => String(t.expr)));
}

const PROMQL_WORDS = new Set([
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset',
]);

/** Metric names in a PromQL expression: identifiers that are neither functions, keywords nor labels. */
function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // label values
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // range selectors
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' '); // label lists
  const names: string[] = [];
  for (const match of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*(?=\s*(\()?)/g)) {
    const [word, call] = match;
    if (call || PROMQL_WORDS.has(word)) continue;
    names.push(word);
  }
  return names;
}

async function registeredMetricNames(): Promise<string[]> {
  // The queue gauge only calls getJobCounts while collecting; nothing else touches the queue.
  const queue = { getJobCounts: async () => ({}) } as unknown as DeliveryQueue;
  const names: string[] = [];
  for (const registry of [createApiMetrics(queue).registry, createWorkerMetrics(queue).registry]) {
    for (const metric of await registry.getMetricsAsJSON()) {
      names.push(metric.name);
      if (String(metric.type) === 'histogram') names.push(`${metric.name}_bucket`, `${metric.name}_sum`, `${metric.name}_count`);
      if (String(metric.type) === 'summary') names.push(`${metric.name}_sum`, `${metric.name}_count`);
    }
  }
  return names;
}
