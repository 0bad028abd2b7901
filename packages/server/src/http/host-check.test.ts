import { describe, expect, it } from 'vitest';
import { allowedHosts, DEFAULT_ALLOWED_HOSTS, hostName, hostProblem } from './host-check.js';

describe('the Host check', () => {
  it('reads the name of a Host header without port, case or trailing dot', () => {
    expect(hostName('LocalHost:8080')).toBe('localhost');
    expect(hostName('example.com.')).toBe('example.com');
    expect(hostName('[::1]:8080')).toBe('[::1]');
    expect(hostName('[::1]')).toBe('[::1]');
    expect(hostName('10.0.0.1')).toBe('10.0.0.1');
  });

  it('adds the bind address unless it is a wildcard, and the names given', () => {
    expect(allowedHosts('127.0.0.1')).toEqual([...DEFAULT_ALLOWED_HOSTS]);
    expect(allowedHosts('0.0.0.0')).toEqual([...DEFAULT_ALLOWED_HOSTS]);
    expect(allowedHosts('::')).toEqual([...DEFAULT_ALLOWED_HOSTS]);
    expect(allowedHosts('gpu1.lan')).toEqual([...DEFAULT_ALLOWED_HOSTS, 'gpu1.lan']);
    expect(allowedHosts('fd00::2')).toEqual([...DEFAULT_ALLOWED_HOSTS, '[fd00::2]']);
    expect(allowedHosts(undefined, ['TRM.example.com.', '.Lan', '*'])).toEqual([
      ...DEFAULT_ALLOWED_HOSTS,
      'trm.example.com',
      '.lan',
      '*',
    ]);
  });

  it('accepts localhost, IP addresses, the allowed names and a missing Host; refuses other names', () => {
    const allowed = allowedHosts('gpu1.lan', ['.example.com']);
    for (const ok of [
      undefined,
      'localhost:80',
      'a.localhost',
      '192.168.1.20:8080',
      '[2001:db8::1]:8080',
      'gpu1.lan:8080',
      'example.com',
      'api.example.com',
    ])
      expect(hostProblem(ok, allowed), String(ok)).toBeNull();
    for (const bad of ['gpu2.lan', 'notexample.com', '127.0.0.1.nip.io', '999.1.1.1', '[::1', 'localhost.evil.com'])
      expect(hostProblem(bad, allowed), bad).toMatch(/is not a name this server answers to/);
    expect(hostProblem('anything.example', ['*'])).toBeNull();
  });
});
