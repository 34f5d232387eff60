import { domainToASCII } from 'node:url';
import type { FieldIssue } from '../shared/errors';
import { isFreeMailDomain } from './free-mail-domains';

/** A company holds at most this many domains: each is a guard item written in its transactions. */
export const maxDomainsPerCompany = 20;

/** The guard scope holding a company domain unique in its workspace (value: the domain). */
export const companyDomainScope = 'company-domain';

const domainLabel = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const topLevel = /^(?:[a-z]{2,63}|xn--[a-z0-9-]+)$/;

export type DomainResult = { domain: string } | { issue: FieldIssue };

/**
 * Normalises what a user types as a company domain: scheme, credentials, port, path, query and a
 * leading `www.` are dropped, the rest is lower-cased and IDN labels turned into punycode
 * (`https://www.Bücher.de/shop` → `xn--bcher-kva.de`), the same form `emailDomain` gives for an email.
 * Free mailbox providers (gmail.com, ...) are refused: they say nothing about an employer.
 */
export function normaliseCompanyDomain(raw: string, field: string): DomainResult {
  const fail = (message: string): DomainResult => ({ issue: { field, message, code: 'invalid_domain' } });
  let host = raw.trim().toLowerCase();
  host = host.replace(/^[a-z][a-z0-9+.-]*:\/\//, '');
  host = host.replace(/[/?#].*$/s, '');
  host = host.slice(host.lastIndexOf('@') + 1);
  host = host.replace(/:\d*$/, '').replace(/\.$/, '');
  if (host === '') return fail('Enter a domain like acme.com');
  // domainToASCII would percent-decode or accept IP literals; neither is a company's domain.
  const ascii = /[%[\]\s]/.test(host) ? '' : domainToASCII(host);
  const domain = ascii.replace(/^www\./, '');
  const labels = domain.split('.');
  if (
    domain.length > 253 ||
    labels.length < 2 ||
    !labels.every((label) => domainLabel.test(label)) ||
    !topLevel.test(labels[labels.length - 1]!)
  ) {
    return fail(`"${raw.trim()}" is not a valid domain: enter one like acme.com`);
  }
  if (isFreeMailDomain(domain)) {
    return fail(`${domain} is a free mailbox provider: it cannot identify a company`);
  }
  return { domain };
}
