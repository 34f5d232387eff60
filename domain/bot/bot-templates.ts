import type { ContactItem } from '../contacts/contact-record';

/**
 * Reply templates: plain text with placeholders `{{contact.<field>}}`, optionally with a fallback
 * `{{contact.firstName | "there"}}`. Rendering is one pass of string substitution: a value is
 * inserted as text (control characters dropped), never read as a template again, and nothing in a
 * template runs code. A field the contact lacks renders as its fallback, or as nothing.
 */

/** The contact fields a template may name; `custom.<key>` names a custom field. */
export const templateFields = ['name', 'firstName', 'lastName', 'email', 'phone', 'company', 'jobTitle', 'city', 'country'] as const;

const placeholderPattern = /\{\{\s*([^{}|]*?)\s*(?:\|\s*"([^"{}]*)"\s*)?\}\}/g;
const customFieldPattern = /^contact\.custom\.[a-z][a-z0-9_]{0,39}$/;

const knownPath = (path: string) =>
  customFieldPattern.test(path) || (path.startsWith('contact.') && (templateFields as readonly string[]).includes(path.slice('contact.'.length)));

/** The template's problems, one message each (empty when it is fine): unknown fields, unclosed braces. */
export function templateProblems(template: string): string[] {
  const problems: string[] = [];
  for (const match of template.matchAll(placeholderPattern)) {
    const path = match[1] ?? '';
    if (!knownPath(path)) {
      problems.push(
        `Unknown placeholder {{${path}}}: use contact.${templateFields.join(', contact.')} or contact.custom.<key>`,
      );
    }
  }
  const rest = template.replace(placeholderPattern, '');
  if (rest.includes('{{') || rest.includes('}}')) problems.push('A placeholder is not closed: write {{contact.firstName}} or {{contact.firstName | "fallback"}}');
  return problems;
}

const primaryValue = (contact: ContactItem, kind: string) =>
  (contact.channels.find((channel) => channel.kind === kind && channel.primary) ?? contact.channels.find((channel) => channel.kind === kind))?.value;

/** A contact field as text, or undefined when the contact has none. */
function fieldOf(contact: ContactItem, path: string): string | undefined {
  const field = path.slice('contact.'.length);
  if (field.startsWith('custom.')) {
    const value = contact.customFields?.[field.slice('custom.'.length)];
    return value === undefined || value === null ? undefined : Array.isArray(value) ? value.join(', ') : String(value);
  }
  const words = contact.name.trim().split(/\s+/);
  switch (field) {
    case 'name':
      return contact.name;
    case 'firstName':
      return words[0];
    case 'lastName':
      return words.length > 1 ? words.slice(1).join(' ') : undefined;
    case 'email':
      return primaryValue(contact, 'email');
    case 'phone':
      return primaryValue(contact, 'phone');
    case 'company':
      return contact.companyName;
    case 'jobTitle':
      return contact.jobTitle;
    case 'city':
      return contact.city;
    case 'country':
      return contact.country;
    default:
      return undefined;
  }
}

// Control characters (line breaks kept) would let a value forge lines or escape sequences in a provider's text.
const unsafe = /[\u0000-\u0009\u000b-\u001f\u007f]/g;

/** The template with the contact's fields in it (see above). */
export function renderTemplate(template: string, contact: ContactItem): string {
  return template
    .replace(placeholderPattern, (_whole, path: string, fallback: string | undefined) => {
      const value = knownPath(path) ? fieldOf(contact, path)?.trim() : undefined;
      return (value ? value : (fallback ?? '')).replace(unsafe, '');
    })
    .replace(/[ \t]+([,.!?])/g, '$1')
    .trim();
}
