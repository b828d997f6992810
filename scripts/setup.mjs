#!/usr/bin/env node
// Makes this checkout ready for `npm start` and `npm test` on a fresh Debian machine with Node 20: installs
// etcd and etcdctl (Debian's etcd-server and etcd-client), openssl, nats-server and chromium when they are not on the PATH, and, where it can act as
// root, what a cell's containers and their tests use (iptables, Debian's docker-registry, busybox-static, skopeo);
// runs `npm ci` when node_modules is missing or older than package-lock.json, then builds. Plain Node with no dependencies, because it runs before node_modules
// exists. Silent when there is nothing to do.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Inside node_modules, so that deleting node_modules also forgets the install.
const installStamp = join(root, 'node_modules', '.diego-installed-lock-sha256');

function say(message) {
  process.stderr.write(`setup: ${message}\n`);
}

function fail(message) {
  say(message);
  process.exit(1);
}

/** Runs a command with our stdio; returns its exit status (null when it could not run). */
function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: root, ...options });
  return result.error ? null : result.status;
}

// Debian puts some of what we install (nats-server, iptables) in /usr/sbin, which is not on a non-root user's PATH.
const SEARCH_PATH = `${process.env.PATH ?? ''}:/usr/sbin:/sbin`;

function onPath(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore', env: { ...process.env, PATH: SEARCH_PATH } }).status === 0;
}

function checkNode() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 20) fail(`Node ${process.versions.node} is too old: this project needs Node 20 or newer`);
}

/** Root runs apt-get itself; anyone else goes through sudo (never prompting when there is no terminal). */
function asRoot() {
  if (process.getuid?.() === 0) return [];
  if (!onPath('sudo')) {
    fail("etcd is missing and installing it needs root: run `apt-get install etcd-server etcd-client` as root, or install sudo");
  }
  return process.stdin.isTTY ? ['sudo'] : ['sudo', '-n'];
}

function runAsRoot(prefix, args, options) {
  const [command, ...rest] = [...prefix, ...args];
  return run(command, rest, options);
}

/**
 * Debian's package may start an etcd service on 127.0.0.1:2379, the address `diego up` gives its own etcd: stop
 * it and keep it from coming back at boot. Only done right after we installed the package ourselves.
 */
function stopPackagedEtcdService(prefix) {
  const quiet = { stdio: 'ignore' };
  if (existsSync('/run/systemd/system')) {
    const wasRunning = run('systemctl', ['is-active', '--quiet', 'etcd'], quiet) === 0;
    runAsRoot(prefix, ['systemctl', 'disable', '--now', 'etcd'], quiet);
    if (wasRunning) say('stopped and disabled the etcd service the package started (diego up and the tests run their own)');
    return;
  }
  // Without systemd the package's init script starts etcd with a pid file. Stop that process only: the
  // script's own `stop` ends by killing every /usr/bin/etcd on the machine, test and `diego up` ones included.
  const pidFile = '/run/etcd.pid';
  const pid = existsSync(pidFile) ? readFileSync(pidFile, 'utf8').trim() : '';
  if (/^\d+$/.test(pid) && runAsRoot(prefix, ['kill', pid], quiet) === 0) {
    say('stopped the etcd service the package started (diego up and the tests run their own)');
  }
}

/** The Debian package of each etcd binary we need: the server for the cluster and the tests, etcdctl for operators. */
const ETCD_PACKAGES = [
  { binary: 'etcd', pkg: 'etcd-server' },
  { binary: 'etcdctl', pkg: 'etcd-client' },
];

/**
 * What a cell running as root uses for its containers (iptables for egress rules) and what their tests and the
 * benchmark use: a real registry, a static busybox to build images from, skopeo to compare pulls against. Only a
 * root cell isolates, so without root (and no password-less sudo) these are not installed and those tests skip.
 */
const CONTAINER_PACKAGES = [
  { binary: 'iptables', pkg: 'iptables' },
  { binary: 'docker-registry', pkg: 'docker-registry' },
  { binary: 'busybox', pkg: 'busybox-static' },
  { binary: 'skopeo', pkg: 'skopeo' },
];

function canActAsRoot() {
  return process.getuid?.() === 0 || (onPath('sudo') && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0);
}

/** Installs the Debian packages of the binaries that are not on the PATH; returns false when that failed. */
function aptInstall(missing) {
  const packages = missing.map(({ pkg }) => pkg);
  say(`${missing.map(({ binary }) => binary).join(', ')} not on the PATH: installing Debian's ${packages.join(', ')}`);
  const prefix = asRoot();
  const apt = ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get'];
  const installed =
    runAsRoot(prefix, [...apt, 'update', '-qq']) === 0 &&
    runAsRoot(prefix, [...apt, 'install', '-y', '-qq', '--no-install-recommends', ...packages]) === 0;
  if (packages.includes('etcd-server')) stopPackagedEtcdService(prefix);
  if (packages.includes('docker-registry')) stopPackagedService(prefix, 'docker-registry', '/run/docker-registry.pid');
  if (packages.includes('nats-server')) stopPackagedService(prefix, 'nats-server');
  return installed && missing.every(({ binary }) => onPath(binary));
}

function ensureEtcd() {
  const missing = ETCD_PACKAGES.filter(({ binary }) => !onPath(binary));
  if (missing.length === 0) return;
  const packages = missing.map(({ pkg }) => pkg);
  if (!onPath('apt-get')) {
    fail(`${missing.map(({ binary }) => binary).join(' and ')} not on the PATH and this is not a Debian-like system: install etcd 3.4 or newer (with etcdctl) and put it on the PATH`);
  }
  if (!aptInstall(missing)) {
    fail(
      `could not install ${packages.join(' and ')}${asRoot().length > 0 ? ' (sudo needs to work without a password here, or run it yourself)' : ''}: ` +
        `run \`sudo apt-get install ${packages.join(' ')}\` and try again`,
    );
  }
}

/** What `diego up --tls` and the TLS tests sign their certificates with (packages/tls/src/certificates.ts). */
const TLS_PACKAGES = [{ binary: 'openssl', pkg: 'openssl' }];
/** The NATS server the receptor's router registration tests announce it to (packages/test-support/src/nats.ts). */
const NATS_PACKAGES = [{ binary: 'nats-server', pkg: 'nats-server' }];
/** The browser the dashboard's end-to-end tests drive through playwright-core (which never downloads one). */
const BROWSER_PACKAGES = [{ binary: 'chromium', pkg: 'chromium' }];

/** Installs what every user needs, root or not, when it is missing; `why` says what it is for. */
function ensureForEveryUser(wanted, why) {
  const missing = wanted.filter(({ binary }) => !onPath(binary));
  if (missing.length === 0) return;
  const names = missing.map(({ binary }) => binary).join(', ');
  const packages = missing.map(({ pkg }) => pkg).join(' ');
  if (!onPath('apt-get')) fail(`${names} not on the PATH and this is not a Debian-like system: install it (${why})`);
  if (process.getuid?.() !== 0 && !onPath('sudo')) fail(`${names} missing and installing it needs root: run \`apt-get install ${packages}\` as root, or install sudo`);
  if (!aptInstall(missing)) fail(`could not install ${packages}: run \`sudo apt-get install ${packages}\` and try again`);
}

function ensureContainerTools() {
  const missing = CONTAINER_PACKAGES.filter(({ binary }) => !onPath(binary));
  if (missing.length === 0 || !onPath('apt-get')) return;
  const packages = missing.map(({ pkg }) => pkg).join(' ');
  if (!canActAsRoot()) {
    say(`not root: ${packages} not installed (a cell without root runs plain processes; the container tests skip)`);
    return;
  }
  if (!aptInstall(missing)) fail(`could not install ${packages}: run \`sudo apt-get install ${packages}\` and try again`);
}

/**
 * A service a package started on install (docker-registry on :5000, nats-server on :4222): the tests run their own.
 * Without systemd, only a package with an init script (and so a pid file) started one.
 */
function stopPackagedService(prefix, name, pidFile) {
  const quiet = { stdio: 'ignore' };
  if (existsSync('/run/systemd/system')) {
    runAsRoot(prefix, ['systemctl', 'disable', '--now', name], quiet);
    return;
  }
  const pid = pidFile !== undefined && existsSync(pidFile) ? readFileSync(pidFile, 'utf8').trim() : '';
  if (/^\d+$/.test(pid) && runAsRoot(prefix, ['kill', pid], quiet) === 0) say(`stopped the ${name} service the package started`);
}

function lockHash() {
  return createHash('sha256').update(readFileSync(join(root, 'package-lock.json'))).digest('hex');
}

function ensureNodeModules() {
  const wanted = lockHash();
  const installed = existsSync(installStamp) ? readFileSync(installStamp, 'utf8').trim() : null;
  if (installed === wanted) return;
  say(installed === null ? 'installing dependencies (npm ci)' : 'package-lock.json changed: reinstalling dependencies (npm ci)');
  if (run('npm', ['ci', '--no-audit', '--no-fund']) !== 0) fail('npm ci failed');
  writeFileSync(installStamp, `${wanted}\n`);
}

function build() {
  if (run('npm', ['run', '--silent', 'build']) !== 0) fail('the build (tsc -b) failed');
}

checkNode();
ensureEtcd();
ensureForEveryUser(TLS_PACKAGES, 'diego up --tls and the TLS tests make certificates with it');
ensureForEveryUser(NATS_PACKAGES, "the receptor's router registration tests run one");
ensureForEveryUser(BROWSER_PACKAGES, "the dashboard's browser tests drive it");
ensureContainerTools();
ensureNodeModules();
build();
