import { dialableUrl, parseEndpointUrl, parseHostPort } from './address';
import { autoOrPositiveIntegerFlag, durationFlag, logLevelFlag, optional, parsePositiveInteger, urlListFlag } from './flag-types';

describe('parseHostPort', () => {
  it.each([
    ['0.0.0.0:8887', '0.0.0.0:8887'],
    ['127.0.0.1:0', '127.0.0.1:0'],
    ['localhost:8889', 'localhost:8889'],
    ['bbs.service.cf.internal:8889', 'bbs.service.cf.internal:8889'],
    ['[::1]:8889', '[::1]:8889'],
    [':8887', '0.0.0.0:8887'],
  ])('accepts %s', (text, normalized) => {
    expect(parseHostPort(text)).toBe(normalized);
  });

  it.each([
    ['8887', /not a host:port/],
    ['localhost', /not a host:port/],
    ['http://localhost:8887', /not a host:port/],
    ['localhost:http', /not a host:port/],
    ['localhost:65536', /out of range/],
    ['::1:8889', /not a host:port/],
    ['[not-ip]:1', /not an IPv6 address/],
    ['under_score:1', /not a host name/],
    ['999.1.1.1:1', /not a host name/],
  ])('rejects %s', (text, message) => {
    expect(() => parseHostPort(text)).toThrow(message);
  });
});

describe('parseEndpointUrl', () => {
  it('accepts http and https URLs and drops a trailing slash', () => {
    expect(parseEndpointUrl('http://127.0.0.1:2379')).toBe('http://127.0.0.1:2379');
    expect(parseEndpointUrl('https://etcd.example:2379/')).toBe('https://etcd.example:2379');
  });

  it.each([
    ['127.0.0.1:2379', /not a URL|not an http/],
    ['etcd:2379', /not an http or https URL/],
    ['ftp://host', /not an http or https URL/],
    ['http://host:2379/v2', /without a path/],
    ['http://host?x=1', /without a path/],
  ])('rejects %s', (text, message) => {
    expect(() => parseEndpointUrl(text)).toThrow(message);
  });
});

describe('dialableUrl', () => {
  it.each([
    ['0.0.0.0:8889', 'http://127.0.0.1:8889'],
    ['127.0.0.1:8889', 'http://127.0.0.1:8889'],
    ['[::]:8889', 'http://[::1]:8889'],
    ['::1:8889', 'http://[::1]:8889'],
    ['bbs:8889', 'http://bbs:8889'],
  ])('dials %s at %s', (address, url) => {
    expect(dialableUrl(address)).toBe(url);
  });
});

describe('value kinds', () => {
  it('splits a URL list on commas and validates each', () => {
    const flag = urlListFlag('urls', '');
    expect(flag.parse(['http://a:1, http://b:2'])).toEqual(['http://a:1', 'http://b:2']);
    expect(() => flag.parse(['http://a:1,,http://b:2'])).toThrow(/empty one/);
    expect(() => flag.parse([''])).toThrow(/empty one/);
    expect(() => flag.parse(['http://a:1,b:2'])).toThrow(/"b:2"/);
  });

  it('makes an empty optional value null', () => {
    const flag = optional(urlListFlag('urls', ''));
    expect(flag.parse([''])).toBeNull();
    expect(flag.parse(['http://a:1'])).toEqual(['http://a:1']);
  });

  it('knows the four log levels', () => {
    const flag = logLevelFlag();
    expect(['debug', 'info', 'error', 'fatal'].map((level) => flag.parse([level]))).toEqual(['debug', 'info', 'error', 'fatal']);
    expect(() => flag.parse(['warn'])).toThrow('not a log level (debug, info, error, fatal)');
    expect(() => flag.parse(['INFO'])).toThrow(/not a log level/);
  });

  it.each(['0', '-1', '1.5', '1e3', ' 1', '', '0x10', '99999999999999999999'])('does not take %j for a positive integer', (text) => {
    expect(() => parsePositiveInteger(text)).toThrow('not a positive integer');
  });

  it('takes auto or a positive integer', () => {
    const flag = autoOrPositiveIntegerFlag('memory');
    expect(flag.parse(['auto'])).toBe('auto');
    expect(flag.parse(['1024'])).toBe(1024);
    expect(() => flag.parse(['0'])).toThrow('not a positive integer');
  });

  it('wants a positive duration', () => {
    const flag = durationFlag('timeout', '10m');
    expect(flag.parse(['10m'])).toBe(600_000);
    expect(() => flag.parse(['0'])).toThrow('the duration must be positive');
    expect(() => flag.parse(['-1s'])).toThrow('the duration must be positive');
  });
});
