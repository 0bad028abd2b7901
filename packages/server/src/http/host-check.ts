// The Host header guard against DNS rebinding: a web page on an attacker's domain whose name is made to resolve to
// 127.0.0.1 could otherwise drive a server bound to localhost from the victim's browser (the browser treats it
// as the attacker's origin). Such requests carry the attacker's name in Host, so only known names are accepted:
// localhost (and *.localhost, which browsers resolve to loopback themselves), the name the server is bound to, and
// the names an operator adds. An IP address in Host is always accepted: rebinding needs a name, and probes and
// clients that reach the server by address (a pod IP, a port forwarded to the host) must keep working. A request
// without Host (HTTP/1.0, as some load-balancer health checks send) is not a browser's and is accepted too.
import { isIP } from 'node:net';

/** Host names accepted by default besides IP addresses. */
export const DEFAULT_ALLOWED_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

/** A Host header's name without the port, lower case, without a trailing dot; IPv6 keeps its brackets. */
export function hostName(header: string): string {
  let name = header.trim().toLowerCase();
  if (name.startsWith('[')) name = name.slice(0, name.indexOf(']') + 1 || undefined);
  else if (/:\d*$/.test(name)) name = name.slice(0, name.lastIndexOf(':'));
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

function isAddress(name: string): boolean {
  return name.startsWith('[') && name.endsWith(']') ? isIP(name.slice(1, -1)) === 6 : isIP(name) === 4;
}

/**
 * The names a server bound to `bind` accepts: the defaults, the bind address unless it is a wildcard (0.0.0.0,
 * ::), and `extra` (`.example.com` for a domain and its subdomains, `*` for any name).
 */
export function allowedHosts(bind: string | undefined, extra: readonly string[] = []): string[] {
  const names = new Set(DEFAULT_ALLOWED_HOSTS);
  if (bind !== undefined && bind !== '0.0.0.0' && bind !== '::' && bind !== '[::]' && bind !== '')
    names.add(hostName(isIP(bind) === 6 ? `[${bind}]` : bind));
  for (const e of extra) names.add(e === '*' ? '*' : e.startsWith('.') ? `.${hostName(e.slice(1))}` : hostName(e));
  return [...names];
}

/** Why a request with this Host header is refused, or null when it is accepted. */
export function hostProblem(header: string | undefined, allowed: readonly string[]): string | null {
  if (header === undefined || allowed.includes('*')) return null;
  const name = hostName(header);
  if (isAddress(name) || name === 'localhost' || name.endsWith('.localhost')) return null;
  for (const a of allowed)
    if (a === name || (a.startsWith('.') && (name === a.slice(1) || name.endsWith(a)))) return null;
  return (
    `Host ${JSON.stringify(header.slice(0, 100))} is not a name this server answers to (a guard against DNS ` +
    'rebinding): use localhost or an IP address, or start the server with --allowed-hosts naming it'
  );
}
