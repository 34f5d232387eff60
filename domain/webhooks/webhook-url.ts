import ipaddr from 'ipaddr.js';
import type { ResolvedAddress } from '../shared/ports';

/**
 * Where a webhook may go. On AWS only public unicast addresses: never the VPC, the instance metadata
 * service (169.254.169.254), loopback, link-local, CGNAT, multicast or unspecified ranges, in IPv4 or
 * IPv6 (IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry). Under `npm start` and in
 * tests an explicit setting also lets loopback through, so a receiver on this machine can be used.
 */
export interface WebhookNetworkPolicy {
  allowLoopback: boolean;
}

export type AddressClass = 'public' | 'loopback' | 'forbidden';

/** What kind of address this is for a webhook: only `unicast` (ipaddr.js's word for global) is public. */
export function classifyAddress(text: string): { kind: AddressClass; range: string } {
  if (!ipaddr.isValid(text)) return { kind: 'forbidden', range: 'invalid' };
  let address = ipaddr.parse(text);
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) address = (address as ipaddr.IPv6).toIPv4Address();
  const range = address.range();
  if (range === 'unicast') return { kind: 'public', range };
  if (range === 'loopback') return { kind: 'loopback', range };
  return { kind: 'forbidden', range };
}

/** A URL a webhook may not use, and why (a 422 at create or update; a failed attempt at send time). */
export class UnsafeWebhookUrl extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsafeWebhookUrl';
  }
}

/** The URL's own problems before any lookup: a 400 on `body.url`. Undefined when it is fine. */
export function urlShapeProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'Not a URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'Use an https:// URL';
  if (url.username || url.password) return 'No user name or password in the URL: authenticate by the signature';
  if (url.hash) return 'No #fragment: it is never sent';
  return undefined;
}

/** The host as a lookup takes it: `[::1]` without its brackets. */
const bareHost = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1');

/**
 * Resolves the URL's host and checks every address it gives; returns the one to connect to. A host
 * that resolves to any forbidden address is refused (a name with one public and one private address
 * would otherwise be a coin toss). Plain http only to loopback, and only where loopback is allowed.
 * The caller connects to the address returned, never resolving again (DNS rebinding).
 */
export async function resolveWebhookTarget(
  text: string,
  policy: WebhookNetworkPolicy,
  resolve: (hostname: string) => Promise<ResolvedAddress[]>,
): Promise<ResolvedAddress> {
  const shape = urlShapeProblem(text);
  if (shape) throw new UnsafeWebhookUrl(shape);
  const url = new URL(text);
  const host = bareHost(url);
  let addresses: ResolvedAddress[];
  if (ipaddr.isValid(host)) {
    addresses = [{ address: host, family: ipaddr.parse(host).kind() === 'ipv6' ? 6 : 4 }];
  } else {
    try {
      addresses = await resolve(host);
    } catch (error) {
      throw new UnsafeWebhookUrl(`The host ${host} does not resolve (${(error as Error).message})`);
    }
    if (addresses.length === 0) throw new UnsafeWebhookUrl(`The host ${host} does not resolve`);
  }
  for (const { address } of addresses) {
    const { kind, range } = classifyAddress(address);
    if (kind === 'forbidden' || (kind === 'loopback' && !policy.allowLoopback)) {
      throw new UnsafeWebhookUrl(`The host ${host} resolves to ${address}, a ${range} address: webhooks go to public addresses only`);
    }
    if (url.protocol === 'http:' && kind !== 'loopback') throw new UnsafeWebhookUrl('Use an https:// URL (plain http only reaches this machine, locally)');
  }
  return addresses[0]!;
}
