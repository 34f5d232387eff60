/**
 * Mailbox providers anyone can sign up to. An address on one of these says nothing about the
 * person's employer, so a contact is never linked to a company by such a domain, and no company can
 * claim one. Domains are in the normalised (lower-case, punycode) form.
 */
export const freeMailDomains: ReadonlySet<string> = new Set([
  // Google, Microsoft, Apple, Yahoo, AOL
  'gmail.com',
  'googlemail.com',
  'outlook.com',
  'msn.com',
  'passport.com',
  'windowslive.com',
  'ymail.com',
  'rocketmail.com',
  'icloud.com',
  'me.com',
  'mac.com',
  'aim.com',
  // privacy-minded providers
  'proton.me',
  'protonmail.com',
  'protonmail.ch',
  'pm.me',
  'tutanota.com',
  'tutanota.de',
  'tutamail.com',
  'tuta.io',
  'tuta.com',
  'mailbox.org',
  'posteo.de',
  'posteo.net',
  'hushmail.com',
  'fastmail.com',
  'fastmail.fm',
  'hey.com',
  'zoho.com',
  'zohomail.com',
  'mail.com',
  'email.com',
  'usa.com',
  'inbox.com',
  'gmx.com',
  // Europe
  'web.de',
  't-online.de',
  'freenet.de',
  'arcor.de',
  'laposte.net',
  'orange.fr',
  'wanadoo.fr',
  'free.fr',
  'sfr.fr',
  'neuf.fr',
  'libero.it',
  'virgilio.it',
  'tiscali.it',
  'alice.it',
  'btinternet.com',
  'sky.com',
  'virginmedia.com',
  'ntlworld.com',
  'seznam.cz',
  'centrum.cz',
  'wp.pl',
  'o2.pl',
  'onet.pl',
  'interia.pl',
  'abv.bg',
  'ukr.net',
  'i.ua',
  // Russia and around
  'mail.ru',
  'bk.ru',
  'inbox.ru',
  'list.ru',
  'internet.ru',
  'ya.ru',
  'rambler.ru',
  // Asia
  'qq.com',
  'foxmail.com',
  '163.com',
  '126.com',
  'yeah.net',
  'sina.com',
  'sina.cn',
  'sohu.com',
  'aliyun.com',
  'naver.com',
  'daum.net',
  'hanmail.net',
  'rediffmail.com',
  // North America ISPs
  'comcast.net',
  'verizon.net',
  'att.net',
  'sbcglobal.net',
  'bellsouth.net',
  'cox.net',
  'charter.net',
  'earthlink.net',
  'shaw.ca',
  'rogers.com',
  'sympatico.ca',
  // Latin America
  'uol.com.br',
  'bol.com.br',
  'terra.com.br',
  // throw-away inboxes
  'mailinator.com',
  'guerrillamail.com',
  'yopmail.com',
  '10minutemail.com',
  'temp-mail.org',
]);

/**
 * Providers that run the same service under many country domains: `hotmail.co.uk`, `yahoo.fr`,
 * `gmx.de`, `yandex.com.tr`, ... A domain is one of theirs when it is the family name followed by a
 * country or generic top-level domain, optionally under a common second level (`co.`, `com.`, ...).
 */
const freeMailFamilies: ReadonlySet<string> = new Set([
  'hotmail',
  'outlook',
  'live',
  'yahoo',
  'aol',
  'gmx',
  'yandex',
  'gmail',
]);
const familySuffix = /^(?:(?:co|com|net|org|ne|or)\.)?[a-z]{2,3}$/;

/** True when `domain` (normalised: lower-case, punycode) belongs to a free mailbox provider. */
export function isFreeMailDomain(domain: string): boolean {
  if (freeMailDomains.has(domain)) return true;
  const dot = domain.indexOf('.');
  if (dot <= 0) return false;
  return freeMailFamilies.has(domain.slice(0, dot)) && familySuffix.test(domain.slice(dot + 1));
}
